"""Chinese VAT invoices (增值税专用发票 / 增值税普通发票) as digital PDFs.

The layout of docs/sample_company.md on the usual 240 x 140 mm form: title, 发票代码 /
发票号码 / 开票日期 / 校验码, the buyer row (名称, 纳税人识别号), the line table
(货物或应税劳务名称 | 规格型号 | 单位 | 数量 | 单价 | 金额 | 税率 | 税额), 合计, 价税合计 in
words and figures, the seller row and the invoicing seal. One font (WenQuanYi Zen Hei)
for Chinese and Latin, so the text layer reads back exactly.
"""

from __future__ import annotations

import io
import math
import random

from reportlab.lib.colors import HexColor, black
from reportlab.lib.units import mm

from closeflow.sample.fonts import CJK
from closeflow.sample.formats import cny_in_words, format_cn_date, format_cny, format_quantity
from closeflow.sample.invoices import Invoice
from closeflow.sample.pdf_invoice import new_canvas

PAGE = (240 * mm, 140 * mm)
FRAME = HexColor("#8a4b2a")  # the brown of the printed form
SEAL = HexColor("#d0312d")
X0, X1 = 12 * mm, 228 * mm
_CLERKS = ("王芳", "李强", "张伟", "刘洋", "陈静", "杨磊", "赵敏")


def _province(invoice: Invoice) -> str:
    return "江苏" if invoice.supplier.template.city.startswith("32") else "上海"


def _seal(canvas, cx: float, cy: float, name: str, tax_id: str) -> None:  # noqa: ANN001
    """An oval invoicing seal: name around the top, tax id, 发票专用章."""
    canvas.saveState()
    canvas.setStrokeColor(SEAL)
    canvas.setFillColor(SEAL)
    canvas.setLineWidth(1.2)
    rx, ry = 17 * mm, 11 * mm
    canvas.ellipse(cx - rx, cy - ry, cx + rx, cy + ry, stroke=1, fill=0)
    canvas.setFont(CJK, 6.5)
    count = len(name)
    for n, char in enumerate(name):  # characters along the upper arc
        angle = math.radians(160 - 140 * n / max(count - 1, 1))
        x, y = cx + (rx - 3.2 * mm) * math.cos(angle), cy + (ry - 3.2 * mm) * math.sin(angle)
        canvas.saveState()
        canvas.translate(x, y)
        canvas.rotate(math.degrees(angle) - 90)
        canvas.drawCentredString(0, -1 * mm, char)
        canvas.restoreState()
    canvas.setFont(CJK, 6)
    canvas.drawCentredString(cx, cy - 1.5 * mm, tax_id)
    canvas.setFont(CJK, 7)
    canvas.drawCentredString(cx, cy - 7 * mm, "发票专用章")
    canvas.restoreState()


def render_cn_vat_pdf(invoice: Invoice, rng: random.Random) -> bytes:
    """The invoice as a one-page PDF in the form of a Chinese VAT invoice."""
    supplier, buyer = invoice.supplier, invoice.buyer
    kind = "专用发票" if invoice.cn_special else "普通发票"
    title = f"{_province(invoice)}增值税{kind}"
    buffer = io.BytesIO()
    canvas = new_canvas(buffer, f"{title} {invoice.invoice_number}", supplier.name)
    canvas.setPageSize(PAGE)
    top = PAGE[1]

    # title (left of centre, as on the form) and the numbers at the top right
    title_x = 100 * mm
    canvas.setFillColor(FRAME)
    canvas.setFont(CJK, 17)
    canvas.drawCentredString(title_x, top - 16 * mm, title)
    canvas.setStrokeColor(FRAME)
    for dy in (18.5, 19.5):
        canvas.line(title_x - 33 * mm, top - dy * mm, title_x + 33 * mm, top - dy * mm)
    canvas.setFont(CJK, 8)
    canvas.drawString(X0, top - 10 * mm, f"机器编号: 4990{rng.randrange(10**8):08d}")
    head = (
        f"发票代码: {invoice.cn_invoice_code}",
        f"发票号码: {invoice.invoice_number}",
        f"开票日期: {format_cn_date(invoice.invoice_date)}",
        "校验码: " + " ".join(invoice.cn_check_code[i : i + 5] for i in range(0, 20, 5)),
    )
    canvas.setFillColor(black)
    canvas.setFont(CJK, 8.5)
    for n, text in enumerate(head):
        canvas.drawString(160 * mm, top - (8 + 5 * n) * mm, text)

    # frame
    y_top, y_bottom = top - 29 * mm, top - 121 * mm
    canvas.setLineWidth(0.8)
    canvas.rect(X0, y_bottom, X1 - X0, y_top - y_bottom, stroke=1, fill=0)
    canvas.setLineWidth(0.5)

    def party_rows(y: float, role: str, name: str, tax_id: str, address: str, bank: str) -> None:
        canvas.setFillColor(FRAME)
        canvas.setFont(CJK, 9)
        canvas.drawString(X0 + 2 * mm, y - 5 * mm, role)
        canvas.line(X0 + 13 * mm, y, X0 + 13 * mm, y - 14 * mm)
        canvas.setFillColor(black)
        canvas.setFont(CJK, 8.5)
        canvas.drawString(X0 + 15 * mm, y - 5 * mm, f"名称: {name}")
        canvas.drawString(X0 + 118 * mm, y - 5 * mm, f"纳税人识别号: {tax_id}")
        canvas.setFont(CJK, 7.5)
        canvas.drawString(X0 + 15 * mm, y - 11 * mm, f"地址、电话: {address}")
        canvas.drawString(X0 + 118 * mm, y - 11 * mm, f"开户行及账号: {bank}")
        canvas.setStrokeColor(FRAME)
        canvas.line(X0, y - 14 * mm, X1, y - 14 * mm)

    party_rows(
        y_top, "购买方", buyer.name, buyer.tax_id, buyer.address, "中国工商银行上海自贸试验区分行"
    )

    # the line table
    cols = (
        X0,
        X0 + 62 * mm,
        X0 + 88 * mm,
        X0 + 100 * mm,
        X0 + 118 * mm,
        X0 + 143 * mm,
        X0 + 172 * mm,
        X0 + 186 * mm,
        X1,
    )
    headers = ("货物或应税劳务名称", "规格型号", "单位", "数量", "单价", "金额", "税率", "税额")
    y = y_top - 14 * mm
    canvas.setFillColor(FRAME)
    canvas.setFont(CJK, 8)
    for n, header in enumerate(headers):
        canvas.drawCentredString((cols[n] + cols[n + 1]) / 2, y - 4.5 * mm, header)
    for x in cols[1:-1]:
        canvas.line(x, y, x, y - 40 * mm)
    canvas.setFillColor(black)
    canvas.setFont(CJK, 8)
    row_y = y - 11 * mm
    for line in invoice.lines:
        values = (
            line.description,
            line.spec,
            line.unit,
            format_quantity(line.quantity, "en"),
            f"{line.unit_price:.2f}",
            f"{line.amount:.2f}",
            f"{int(line.tax_rate * 100)}%",
            f"{line.tax_amount:.2f}",
        )
        canvas.drawString(cols[0] + 2 * mm, row_y, values[0])
        for n in (1, 2, 6):
            canvas.drawCentredString((cols[n] + cols[n + 1]) / 2, row_y, values[n])
        for n in (3, 4, 5, 7):
            canvas.drawRightString(cols[n + 1] - 1.5 * mm, row_y, values[n])
        row_y -= 5 * mm
    y -= 34 * mm
    canvas.setFillColor(FRAME)
    canvas.drawCentredString((cols[0] + cols[1]) / 2, y - 4 * mm, "合计")
    canvas.setFillColor(black)
    canvas.drawRightString(cols[6] - 1.5 * mm, y - 4 * mm, format_cny(invoice.subtotal))
    canvas.drawRightString(cols[8] - 1.5 * mm, y - 4 * mm, format_cny(invoice.tax_amount))
    y -= 6 * mm
    canvas.setStrokeColor(FRAME)
    canvas.line(X0, y, X1, y)

    # total in words and figures
    canvas.setFillColor(FRAME)
    canvas.setFont(CJK, 8.5)
    canvas.drawString(X0 + 2 * mm, y - 5.5 * mm, "价税合计(大写)")
    canvas.drawString(X0 + 140 * mm, y - 5.5 * mm, "(小写)")
    canvas.setFillColor(black)
    canvas.drawString(X0 + 40 * mm, y - 5.5 * mm, cny_in_words(invoice.total))
    canvas.drawString(X0 + 152 * mm, y - 5.5 * mm, format_cny(invoice.total))
    y -= 8 * mm
    canvas.line(X0, y, X1, y)

    party_rows(
        y,
        "销售方",
        supplier.name,
        supplier.tax_id,
        supplier.address,
        f"{supplier.bank_name} {supplier.bank_account}",
    )

    canvas.setFillColor(FRAME)
    canvas.drawString(X0 + 2 * mm, y_bottom + 7 * mm, "备注")
    canvas.setFillColor(black)
    canvas.drawString(X0 + 15 * mm, y_bottom + 7 * mm, "付款时请注明发票号码")

    # clerks and seal below the frame
    clerks = rng.sample(_CLERKS, 3)
    canvas.setFont(CJK, 8)
    canvas.setFillColor(FRAME)
    footer = f"收款人: {clerks[0]}    复核: {clerks[1]}    开票人: {clerks[2]}    销售方: (章)"
    canvas.drawString(X0 + 4 * mm, y_bottom - 6 * mm, footer)
    canvas.setFillColor(black)
    _seal(canvas, X1 - 35 * mm, y_bottom + 5 * mm, supplier.name, supplier.tax_id)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()

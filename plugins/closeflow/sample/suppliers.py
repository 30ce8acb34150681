"""The sample company's suppliers: who they are, what they sell, how they invoice.

`SUPPLIERS` is the hand-written part (names, trade, habits, price lists); `build_suppliers`
completes it from the seed with the identifiers a real supplier has (address, VAT id or
unified social credit code with valid check characters, IBAN or Chinese bank account,
numbering offsets). Two suppliers deliberately have no posting rule (`account=None`):
their invoices must end in the review queue.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from closeflow.sample import checksums
from closeflow.sample.formats import DateStyle, NumberLocale
from closeflow.sample.seeds import digits, stream

ReferenceStyle = Literal["rf", "invoice_number"]


@dataclass(frozen=True)
class Item:
    """One article or service of a supplier's price list; prices in cents."""

    description: str  # may contain {month}: the invoice month, in the supplier's language
    min_cents: int
    max_cents: int
    quantities: tuple[str, ...] = ("1",)
    unit: str = ""  # Chinese invoices: 单位
    spec: str = ""  # Chinese invoices: 规格型号
    account: str | None = None  # a description rule posts this line here, not the supplier's


@dataclass(frozen=True)
class SupplierTemplate:
    name: str
    slug: str
    account: str | None  # expense account of the posting rule; None: no rule
    cost_center: str
    city: str
    country: str
    locale: NumberLocale
    date_style: DateStyle
    terms_days: int
    reference: ReferenceStyle
    number_format: str  # str.format fields: year, yy, month, seq
    tax_rate: Decimal
    weight: int  # relative number of invoices
    items: tuple[Item, ...]
    recurring_day: int | None = None  # invoices once a month, on this business day index
    currency: str = "EUR"
    bank_country: str = "DE"
    alias: str | None = None
    file_pattern: str = "Invoice_{number}"
    # the professional-fees rule: invoices whose EUR total is above this wait for approval
    approval_above: Decimal | None = None

    @property
    def language(self) -> str:
        return "zh" if self.currency == "CNY" else self.locale


def _i(
    desc: str, low: str, high: str, *qty: str, unit: str = "", spec: str = "", account=None
) -> Item:
    """Shorthand: prices as decimal strings."""
    cents = lambda s: int(Decimal(s) * 100)  # noqa: E731
    return Item(desc, cents(low), cents(high), qty or ("1",), unit, spec, account)


D19, D7 = Decimal("0.19"), Decimal("0.07")
CN13, CN9, CN6 = Decimal("0.13"), Decimal("0.09"), Decimal("0.06")
FEES_APPROVAL = Decimal("7500.00")  # professional fees above this need the CFO's approval

SUPPLIERS: tuple[SupplierTemplate, ...] = (
    SupplierTemplate(
        "Hanse Office Park Verwaltung GmbH", "hanse-office-park", "6100", "ADMIN",
        "20457 Hamburg", "DE", "de", "de", 14, "rf", "MR-{year}-{month:02d}-{seq:03d}", D19, 0,
        (_i("Büromiete {month}", "4850.00", "4850.00"),
         _i("Nebenkostenvorauszahlung {month}", "620.00", "620.00")),
        recurring_day=0, file_pattern="Mietrechnung_{number}",
    ),
    SupplierTemplate(
        "Nordwind Cloud Hosting GmbH", "nordwind-cloud", "6200", "IT",
        "20095 Hamburg", "DE", "en", "iso", 14, "rf", "INV-{year}-{seq:05d}", D19, 9,
        (_i("Cloud server M, {month}", "49.00", "89.00", "1", "2", "3", "4"),
         _i("Managed PostgreSQL, {month}", "120.00", "260.00"),
         _i("Object storage 1 TB, {month}", "23.00", "23.00", "1", "2", "5"),
         _i("Backup service, {month}", "35.00", "35.00"),
         _i("Support hours", "95.00", "95.00", "0.5", "1", "1.5", "2", "4")),
    ),
    SupplierTemplate(
        "Bitwerk Software Solutions GmbH", "bitwerk", "6200", "IT",
        "70173 Stuttgart", "DE", "de", "de", 30, "invoice_number", "RE{year}{seq:05d}", D19, 5,
        (_i("Lizenz Buchhaltungssoftware, {month}", "189.00", "189.00", "1", "2", "5"),
         _i("Wartungsvertrag Q1", "450.00", "450.00"),
         _i("Anpassungsprogrammierung (Stunden)", "110.00", "125.00", "2", "4", "6.5", "8"),
         _i("Schulung Anwender (halbtags)", "600.00", "600.00", account="6450")),
    ),
    SupplierTemplate(
        "Datenfluss Analytics GmbH", "datenfluss", "6200", "IT",
        "10115 Berlin", "DE", "en", "long", 30, "invoice_number", "DA-{yy}-{seq:04d}", D19, 4,
        (_i("BI dashboard subscription, {month}", "299.00", "299.00"),
         _i("Additional viewer seats", "12.00", "12.00", "5", "10", "15"),
         _i("Data pipeline consulting (hours)", "140.00", "140.00", "3", "5", "7.5")),
    ),
    SupplierTemplate(
        "Alpina Software Vertriebs GmbH", "alpina-software", "6200", "IT",
        "1010 Wien", "AT", "de", "de", 30, "rf", "AS{year}-{seq:05d}", D19, 3,
        (_i("Softwarelizenz Projektmanagement, Jahresabo", "1440.00", "1440.00"),
         _i("Benutzerlizenz zusätzlich", "8.50", "8.50", "3", "5", "10"),
         _i("Premium-Support {month}", "79.00", "79.00")),
        bank_country="AT",
    ),
    SupplierTemplate(
        "Lowlands Data Services B.V.", "lowlands-data", "6200", "IT",
        "1012 AB Amsterdam", "NL", "en", "long", 14, "rf", "LDS{seq:07d}", D19, 3,
        (_i("API calls package 1M, {month}", "150.00", "150.00", "1", "2"),
         _i("Dedicated IP address", "5.00", "5.00", "1", "2"),
         _i("Email delivery service, {month}", "65.00", "95.00")),
        bank_country="NL", file_pattern="{slug}_{number}",
    ),
    SupplierTemplate(
        "Kontor Büromarkt GmbH", "kontor-bueromarkt", "6300", "ADMIN",
        "22761 Hamburg", "DE", "de", "de", 14, "invoice_number", "{seq:07d}", D19, 7,
        (_i("Kopierpapier A4, 80 g, 500 Blatt", "4.29", "5.49", "5", "10", "20", "25"),
         _i("Toner schwarz HP 59A", "89.90", "112.50", "1", "2", "3"),
         _i("Ordner breit, blau", "2.35", "2.95", "10", "20", "30"),
         _i("Haftnotizen 76x76 mm, 12er Pack", "7.99", "9.49", "2", "3", "5"),
         _i("Kugelschreiber, 50 Stück", "14.90", "19.90", "1", "2")),
        file_pattern="Rechnung_{number}",
    ),
    SupplierTemplate(
        "PaperLine Office Supplies GmbH", "paperline", "6300", "ADMIN",
        "40213 Düsseldorf", "DE", "en", "iso", 30, "invoice_number", "PL-{year}-{seq:05d}", D19,
        5,
        (_i("Printer paper A4 (box of 2500 sheets)", "21.50", "26.90", "1", "2", "4"),
         _i("Whiteboard markers, set of 4", "6.90", "8.40", "2", "3", "5"),
         _i("Desk organizer", "18.00", "24.00", "1", "2", "6"),
         _i("Shipping and handling", "6.90", "6.90", account="6350")),
    ),
    SupplierTemplate(
        "Kaffeerösterei Bohnenglück GmbH", "bohnenglueck", "6300", "ADMIN",
        "28195 Bremen", "DE", "de", "de", 14, "invoice_number", "BG-{seq:06d}", D7, 3,
        (_i("Espresso Bohnen 1 kg", "21.90", "24.90", "2", "4", "6"),
         _i("Hafermilch Barista 1 l, 12er Karton", "23.88", "23.88", "1", "2"),
         _i("Kaffee Crema Bohnen 1 kg", "18.50", "19.90", "2", "3", "5")),
        file_pattern="Rechnung_{number}",
    ),
    SupplierTemplate(
        "Fachverlag Finanzpraxis GmbH", "fachverlag-finanzpraxis", "6300", "FIN",
        "50667 Köln", "DE", "de", "de", 30, "rf", "FV{yy}{seq:06d}", D7, 2,
        (_i("Fachbuch Bilanzierung nach HGB, 12. Auflage", "79.00", "79.00", "1", "2"),
         _i("Zeitschrift Finanzpraxis, Abonnement {month}", "32.50", "32.50"),
         _i("Kommentar Umsatzsteuergesetz", "149.00", "149.00")),
    ),
    SupplierTemplate(
        "Elbe Travel Services GmbH", "elbe-travel", "6400", "SALES",
        "20354 Hamburg", "DE", "en", "long", 14, "invoice_number", "ETS-{year}-{seq:04d}", D7, 5,
        (_i("Rail ticket Hamburg - Munich, 1st class", "139.90", "219.90", "1", "2"),
         _i("Rail ticket Hamburg - Berlin, 2nd class", "49.90", "89.90", "1", "2", "3"),
         _i("BahnCard 50, 2nd class", "244.00", "244.00"),
         _i("Seat reservation", "5.20", "5.20", "1", "2", "4")),
    ),
    SupplierTemplate(
        "Stadthotel Am Markt GmbH", "stadthotel-am-markt", "6400", "SALES",
        "04109 Leipzig", "DE", "de", "de", 14, "invoice_number", "H{year}{seq:05d}", D7, 3,
        (_i("Übernachtung Einzelzimmer", "89.00", "129.00", "1", "2", "3"),
         _i("Tagungspauschale", "49.00", "59.00", "4", "6", "8"),
         _i("Parkplatz Tiefgarage", "14.00", "14.00", "1", "2", "3")),
        file_pattern="Hotelrechnung_{number}",
    ),
    SupplierTemplate(
        "Mietwagen Express GmbH", "mietwagen-express", "6400", "SALES",
        "60311 Frankfurt am Main", "DE", "en", "iso", 14, "invoice_number", "MX{seq:08d}", D19,
        2,
        (_i("Car rental compact class (days)", "45.00", "69.00", "1", "2", "3", "5"),
         _i("Fuel service", "28.00", "65.00"),
         _i("Additional driver", "12.00", "12.00", "1", "2")),
    ),
    SupplierTemplate(
        "Schulte & Partner Steuerberatung PartG mbB", "schulte-partner", "6500", "FIN",
        "30159 Hannover", "DE", "de", "de", 30, "rf", "{year}/{seq:04d}", D19, 2,
        (_i("Finanzbuchhaltung {month}", "850.00", "850.00"),
         _i("Lohnbuchhaltung {month}, je Mitarbeiter", "28.00", "28.00", "8", "9", "10"),
         _i("Beratung Umsatzsteuer (Stunden)", "165.00", "165.00", "1", "2.5", "3")),
        file_pattern="Honorarrechnung_{number}", approval_above=FEES_APPROVAL,
    ),
    SupplierTemplate(
        "Brandt Rechtsanwälte PartGmbB", "brandt-rechtsanwaelte", "6500", "FIN",
        "80331 München", "DE", "de", "de", 14, "invoice_number", "BR-{year}-{seq:04d}", D19, 1,
        (_i("Rechtsberatung Vertragsprüfung (Stunden)", "280.00", "320.00", "1.5", "2", "4"),
         _i("Auslagenpauschale", "20.00", "20.00")),
        approval_above=FEES_APPROVAL,
    ),
    SupplierTemplate(
        "Auditas Wirtschaftsprüfung GmbH", "auditas", "6500", "FIN",
        "60313 Frankfurt am Main", "DE", "en", "long", 30, "rf", "AUD-{year}-{seq:04d}", D19, 1,
        (_i("Interim audit procedures, progress billing", "3500.00", "6500.00"),
         _i("Audit travel expenses, flat rate", "250.00", "250.00")),
        approval_above=FEES_APPROVAL,
    ),
    SupplierTemplate(
        "SecureIT Consulting GmbH", "secureit", "6500", "IT",
        "90402 Nürnberg", "DE", "en", "iso", 30, "invoice_number", "SIC-{year}-{seq:04d}", D19,
        2,
        (_i("Penetration test web application (days)", "1200.00", "1200.00", "1", "2", "3"),
         _i("Security awareness training, per participant", "45.00", "45.00", "10", "12",
            account="6450"),
         _i("Consulting hours ISO 27001", "150.00", "150.00", "2", "4", "8")),
    ),
    SupplierTemplate(
        "Telekonnekt Deutschland GmbH", "telekonnekt", "6600", "IT",
        "53113 Bonn", "DE", "de", "de", 14, "rf", "TK{year}{month:02d}{seq:06d}", D19, 0,
        (_i("Business Glasfaser 500, {month}", "89.95", "89.95"),
         _i("Feste IP-Adressen /29, {month}", "15.00", "15.00"),
         _i("Telefonie Flatrate, {month}", "39.90", "39.90")),
        recurring_day=2, file_pattern="Rechnung_{number}",
    ),
    SupplierTemplate(
        "FunkNetz Mobile GmbH", "funknetz", "6600", "IT",
        "40474 Düsseldorf", "DE", "en", "long", 14, "invoice_number",
        "FN-{yy}{month:02d}-{seq:05d}", D19, 0,
        (_i("Mobile plan Business L, {month}", "34.99", "34.99", "6", "7", "8"),
         _i("Roaming data package", "9.99", "19.99", "1", "2", "3")),
        recurring_day=4,
    ),
    SupplierTemplate(
        "Stadtwerke Isarau GmbH", "stadtwerke-isarau", "6700", "ADMIN",
        "80335 München", "DE", "de", "de", 14, "rf", "SW-{year}-{seq:07d}", D19, 0,
        (_i("Strom Abschlag {month}", "310.00", "310.00"),
         _i("Wasser/Abwasser Abschlag {month}", "42.00", "42.00")),
        recurring_day=6, file_pattern="Abschlagsrechnung_{number}",
    ),
    SupplierTemplate(
        "GreenPower Energie GmbH", "greenpower", "6700", "ADMIN",
        "01067 Dresden", "DE", "en", "iso", 14, "rf", "GP{year}{seq:06d}", D19, 0,
        (_i("District heating advance payment, {month}", "185.00", "185.00"),),
        recurring_day=8,
    ),
    SupplierTemplate(
        "Pixelwerk Marketing GmbH", "pixelwerk", "6800", "SALES",
        "50672 Köln", "DE", "de", "de", 30, "invoice_number", "PW-{year}-{seq:04d}", D19, 3,
        (_i("Kampagnenbetreuung Social Media, {month}", "1200.00", "1800.00"),
         _i("Grafikdesign (Stunden)", "85.00", "85.00", "3", "6", "10"),
         _i("Fotoproduktion Tagessatz", "950.00", "950.00")),
    ),
    SupplierTemplate(
        "AdReach Media GmbH", "adreach", "6800", "SALES",
        "10178 Berlin", "DE", "en", "long", 14, "rf", "AR{seq:07d}", D19, 3,
        (_i("Online display campaign, {month}", "800.00", "2500.00"),
         _i("Search advertising management fee", "350.00", "350.00"),
         _i("Newsletter sponsorship slot", "450.00", "450.00", "1", "2")),
    ),
    SupplierTemplate(
        "Druckerei Lindner GmbH", "druckerei-lindner", "6800", "SALES",
        "04105 Leipzig", "DE", "de", "de", 30, "invoice_number", "DL{yy}-{seq:05d}", D19, 2,
        (_i("Visitenkarten 4/4-farbig, 250 Stück", "39.00", "39.00", "2", "4", "6"),
         _i("Flyer DIN A5, 1000 Stück", "119.00", "119.00", "1", "2"),
         _i("Roll-up Display 85x200 cm", "89.00", "89.00", "1", "2")),
        file_pattern="Rechnung_{number}",
    ),
    SupplierTemplate(
        "Clean & Care Gebäudeservice GmbH", "clean-care", "6110", "ADMIN",
        "22041 Hamburg", "DE", "de", "de", 14, "invoice_number", "CC-{year}-{seq:05d}", D19, 2,
        (_i("Unterhaltsreinigung Büro, {month}", "680.00", "680.00"),
         _i("Fensterreinigung Sonderauftrag", "240.00", "240.00"),
         _i("Hygieneartikel Nachfüllung", "38.50", "64.20")),
    ),
    SupplierTemplate(
        "Kurierblitz Logistik GmbH", "kurierblitz", "6350", "ADMIN",
        "20097 Hamburg", "DE", "en", "iso", 14, "invoice_number", "KB{seq:08d}", D19, 3,
        (_i("Same-day courier Hamburg city", "18.50", "32.00", "1", "2", "3"),
         _i("Express parcel Germany", "12.90", "14.90", "1", "2", "4"),
         _i("International document express", "48.00", "75.00")),
    ),
    SupplierTemplate(
        "Eventhaus Elbufer GmbH", "eventhaus-elbufer", None, "SALES",
        "22767 Hamburg", "DE", "de", "de", 14, "invoice_number", "EV-{year}-{seq:03d}", D19, 2,
        (_i("Raummiete Kundenveranstaltung", "1500.00", "2400.00"),
         _i("Catering pro Person", "42.00", "58.00", "25", "40", "60"),
         _i("Technikpauschale", "350.00", "350.00")),
    ),
    SupplierTemplate(
        "Akademie Nord Weiterbildung GmbH", "akademie-nord", None, "FIN",
        "24103 Kiel", "DE", "en", "long", 30, "invoice_number", "AN{yy}{seq:04d}", D19, 2,
        (_i("Seminar IFRS update (participants)", "690.00", "690.00", "1", "2"),
         _i("Online course Excel for controllers", "249.00", "249.00", "1", "2", "3")),
    ),
    SupplierTemplate(
        "上海云帆信息技术有限公司", "yunfan-it", "6200", "IT",
        "310115", "CN", "en", "iso", 30, "invoice_number", "{seq:08d}", CN6, 2,
        (_i("*信息技术服务*软件维护费", "3500.00", "8000.00", unit="项"),
         _i("*信息技术服务*云服务器租赁", "1200.00", "2600.00", "1", "2", "3", unit="台"),
         _i("*信息技术服务*技术支持服务", "800.00", "800.00", "2", "4", "6", unit="次")),
        currency="CNY", alias="Shanghai Yunfan Information Technology Co., Ltd.",
        file_pattern="dzfp_{number}",
    ),
    SupplierTemplate(
        "上海申通达物流有限公司", "shentongda-logistics", "6350", "OPS",
        "310112", "CN", "en", "iso", 30, "invoice_number", "{seq:08d}", CN9, 1,
        (_i("*运输服务*国内货物运输费", "450.00", "1600.00", "1", "2", unit="次"),
         _i("*物流辅助服务*仓储服务费", "900.00", "900.00", unit="月")),
        currency="CNY", alias="Shanghai Shentongda Logistics Co., Ltd.",
        file_pattern="fapiao_{number}",
    ),
    SupplierTemplate(
        "上海明光办公用品有限公司", "mingguang-office", "6300", "ADMIN",
        "310104", "CN", "en", "iso", 14, "invoice_number", "{seq:08d}", CN13, 1,
        (_i("*纸制品*复印纸", "22.00", "26.00", "10", "20", "40", unit="包", spec="A4 70g"),
         _i("*文具*中性笔", "1.80", "2.50", "50", "100", unit="支", spec="0.5mm"),
         _i("*办公设备*碎纸机", "680.00", "890.00", unit="台", spec="S-220")),
        currency="CNY", alias="Shanghai Mingguang Office Supplies Co., Ltd.",
        file_pattern="dzfp_{number}",
    ),
    SupplierTemplate(
        "上海佳禾商务咨询有限公司", "jiahe-consulting", "6500", "FIN",
        "310101", "CN", "en", "iso", 30, "invoice_number", "{seq:08d}", CN6, 1,
        (_i("*现代服务*咨询服务费", "5000.00", "12000.00", unit="项"),
         _i("*现代服务*代理记账服务费", "2800.00", "2800.00", unit="月")),
        currency="CNY", alias="Shanghai Jiahe Business Consulting Co., Ltd.",
        file_pattern="{number}",
    ),
    SupplierTemplate(
        "苏州东方电子科技有限公司", "dongfang-electronics", "6200", "IT",
        "320505", "CN", "en", "iso", 30, "invoice_number", "{seq:08d}", CN13, 1,
        (_i("*计算机配套产品*显示器", "1099.00", "1499.00", "1", "2", "4", unit="台",
            spec="27英寸"),
         _i("*电子计算机*笔记本电脑", "5999.00", "7999.00", "1", "2", unit="台",
            spec="14英寸 16G"),
         _i("*计算机外部设备*键盘鼠标套装", "129.00", "159.00", "2", "5", unit="套")),
        currency="CNY", alias="Suzhou Dongfang Electronic Technology Co., Ltd.",
        file_pattern="dzfp_{number}",
    ),
)  # fmt: skip

_STREETS_DE = (
    "Hafenstraße", "Am Sandtorkai", "Lindenallee", "Kaiserstraße", "Bahnhofstraße",
    "Schillerplatz", "Gartenweg", "Mühlenkamp", "Industriestraße", "Rathausmarkt",
    "Königsallee", "Friedrichstraße", "Marktplatz", "Schlossstraße", "Neuer Wall",
)  # fmt: skip
_STREETS_EN = ("Herengracht", "Keizersgracht", "Prinsengracht", "Damrak")  # NL
_STREETS_AT = ("Kärntner Straße", "Mariahilfer Straße", "Graben")
_STREETS_CN = {
    "310115": ("上海市浦东新区", ("张江路", "世纪大道", "碧波路", "金科路")),
    "310112": ("上海市闵行区", ("莘庄工业区春东路", "虹梅南路", "都市路")),
    "310104": ("上海市徐汇区", ("漕溪北路", "宜山路", "田林路")),
    "310101": ("上海市黄浦区", ("南京东路", "西藏中路", "延安东路")),
    "320505": ("江苏省苏州市虎丘区", ("长江路", "狮山路", "滨河路")),
}
_BANKS = {
    "DE": (("10010010", "Postbank Berlin"), ("20040000", "Commerzbank Hamburg"),
           ("37040044", "Commerzbank Köln"), ("50070010", "Deutsche Bank Frankfurt"),
           ("70150000", "Stadtsparkasse München"), ("20050550", "Hamburger Sparkasse"),
           ("60050101", "BW-Bank Stuttgart"), ("43060967", "GLS Bank")),
    "AT": (("12000", "UniCredit Bank Austria"), ("20111", "Erste Bank")),
    "NL": (("INGB", "ING Bank"), ("ABNA", "ABN AMRO")),
}  # fmt: skip
_CN_BANKS = {
    "31": ("中国工商银行上海张江支行", "中国建设银行上海徐汇支行", "招商银行上海分行营业部"),
    "32": ("中国银行苏州高新技术产业开发区支行", "中国农业银行苏州虎丘支行"),
}


@dataclass(frozen=True)
class SupplierProfile:
    """A supplier with its seeded identifiers; the template says how it invoices."""

    template: SupplierTemplate
    supplier_id: str
    street: str
    tax_id: str
    iban: str | None  # EUR suppliers
    bank_name: str
    bank_account: str  # what a bank statement shows as counterparty account
    phone: str
    rf_base: str  # our customer number at this supplier: the body of RF references
    first_seq: int  # the supplier's invoice counter when the sample starts
    cn_invoice_code: str  # Chinese suppliers: 发票代码

    @property
    def name(self) -> str:
        return self.template.name

    @property
    def currency(self) -> str:
        return self.template.currency

    @property
    def is_chinese(self) -> bool:
        return self.template.currency == "CNY"

    @property
    def address(self) -> str:
        if self.is_chinese:
            return f"{self.street} {self.phone}"
        return f"{self.street}, {self.template.city}"


def _european_bank(rng: random.Random, country: str) -> tuple[str, str]:
    code, bank = rng.choice(_BANKS[country])
    if country == "DE":
        bban = code + digits(rng, 10, first_nonzero=True)
    elif country == "AT":
        bban = code + digits(rng, 11)
    else:  # NL
        bban = code + digits(rng, 10)
    return checksums.make_iban(country, bban), bank


def _uscc(rng: random.Random, division: str) -> str:
    return checksums.make_uscc(
        "9", "1", division, "MA" + "".join(rng.choice(checksums.USCC_CHARS) for _ in range(6))
    )


def build_suppliers(seed: int) -> list[SupplierProfile]:
    """The supplier master data: SUP-001 ... in the order of `SUPPLIERS`."""
    out = []
    for n, tpl in enumerate(SUPPLIERS, start=1):
        rng = stream(seed, "supplier", tpl.slug)
        if tpl.currency == "CNY":
            district, streets = _STREETS_CN[tpl.city]
            street = f"{district}{rng.choice(streets)}{rng.randint(8, 999)}号"
            tax_id = _uscc(rng, tpl.city)
            iban, bank = None, rng.choice(_CN_BANKS[tpl.city[:2]])
            account = digits(rng, 19, first_nonzero=True)
            phone = ("021-" if tpl.city.startswith("31") else "0512-") + digits(rng, 8, True)
            code = ("3100" if tpl.city.startswith("31") else "3200") + "26" + digits(rng, 4)
        else:
            streets = {"DE": _STREETS_DE, "AT": _STREETS_AT, "NL": _STREETS_EN}[tpl.country]
            street = f"{rng.choice(streets)} {rng.randint(1, 180)}"
            tax_id = checksums.make_de_vat_id(digits(rng, 8, first_nonzero=True))
            iban, bank = _european_bank(rng, tpl.bank_country)
            account, phone, code = iban, "+49 " + digits(rng, 3, True) + " " + digits(rng, 7), ""
        out.append(
            SupplierProfile(
                template=tpl,
                supplier_id=f"SUP-{n:03d}",
                street=street,
                tax_id=tax_id,
                iban=iban,
                bank_name=bank,
                bank_account=account,
                phone=phone,
                rf_base=digits(rng, 6, first_nonzero=True),
                first_seq=rng.randint(20, 900),
                cn_invoice_code=code,
            )
        )
    return out

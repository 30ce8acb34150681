"""ocr: one invoice document (PDF, PNG, JPEG, TIFF, e-invoice XML) in, one
`ExtractedInvoice` out.

    from ocr.extract import extract_file, extract_files
    invoice = extract_file("inbox/scan.png", suppliers=company.suppliers)

Knows nothing of Airflow or the warehouse. Modules: einvoice (Factur-X / ZUGFeRD /
XRechnung / Peppol XML, read exactly: the early exit), load (media type, opening, bad
input), pdf (text layer, rendering), tesseract (OCR), layout (words into lines), normalize
(dates, amounts, ids), fields (labels near values), items (line items), chinese (大写
amounts, USCC), suppliers (matching), validate (review reasons), extract (the entry point),
model (the result).
"""

"""Message bodies for the org.test lab mailboxes (issue 12), stdlib only.

Each builder returns the raw RFC 5322 message (bytes, CRLF lines) of one
kind of mail, with fixed MIME boundaries so that the output is
deterministic. Kinds and the class the default class file
(rules/classes/mail-classes.toml) gives them are listed in KINDS; the
generator (orgmail.py) counts by these to write its manifest.

E-invoices are minimal but well formed: an XRechnung in UBL syntax, one
in CII syntax, and a PDF/A-3-style PDF with an embedded factur-x.xml
(EmbeddedFiles name tree, /AF associated file, XMP with pdfaid:part 3 and
the Factur-X extension). The PDF's page is blank, so it needs no embedded
font; it has no OutputIntent, so a strict PDF/A validator would ask for
one. Nothing here is a real invoice: every party is under .example.
"""

import base64
import hashlib

# kind -> (class without deep check, class with the opt-in deep check)
KINDS = {
    "plain": ("unclassified", "unclassified"),
    "offer_pdf": ("unclassified", "unclassified"),
    "sitemap_xml": ("unclassified", "unclassified"),
    "xrechnung_ubl": ("e_invoice", "e_invoice"),
    "xrechnung_cii": ("e_invoice", "e_invoice"),
    "zugferd_named_pdf": ("e_invoice", "e_invoice"),
    "facturx_hidden_pdf": ("likely_invoice", "e_invoice"),
    "invoice_pdf": ("likely_invoice", "likely_invoice"),
    "newsletter": ("bulk", "bulk"),
    "delivery_report": ("automatic", "automatic"),
    "read_receipt": ("automatic", "automatic"),
    "auto_reply": ("automatic", "automatic"),
    "calendar": ("calendar", "calendar"),
}

# German and English invoice file names, in turn; (parameter, value, MIME
# type). RFC 2231 and RFC 2047 forms and the catch-all type are among them.
INVOICE_NAMES = (
    ("filename", "Rechnung_{y}-{n:04d}.pdf", "application/pdf"),
    ("filename", "Invoice_INV-{y}-{n:04d}.pdf", "application/pdf"),
    ("filename", "Gutschrift_{y}-{n:04d}.pdf", "application/pdf"),
    ("filename", "Beleg_{n:04d}.pdf", "application/pdf"),
    ("filename*", "utf-8''Rechnung%20M%C3%A4rz%20{y}.pdf", "application/pdf"),
    ("filename", "=?UTF-8?Q?Quittung_f=C3=BCr_{y}.pdf?=", "application/pdf"),
    ("filename", "credit-note-{n}.pdf", "application/octet-stream"),
    ("filename", "Receipt_{y}_{n}.PDF", "application/pdf"),
)

NEWSLETTER_HEADERS = (
    ("List-Id", "Lab News <news.lab.example>"),
    ("List-Unsubscribe", "<mailto:leave@news.lab.example>, <https://news.lab.example/u>"),
    ("Precedence", "bulk"),
)


def crlf(text):
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def b64(data):
    encoded = base64.b64encode(data).decode("ascii")
    return "\n".join(encoded[i:i + 76] for i in range(0, len(encoded), 76))


def attachment(mime, parameter, name, data, disposition="attachment"):
    name_param = "" if parameter.endswith("*") else f'; name="{name}"'
    return (f"Content-Type: {mime}{name_param}\n"
            f"Content-Transfer-Encoding: base64\n"
            f'Content-Disposition: {disposition}; {parameter}={quote(parameter, name)}\n\n'
            f"{b64(data)}\n")


def quote(parameter, value):
    # RFC 2231 extended values are tokens and must not be quoted.
    return value if parameter.endswith("*") else f'"{value}"'


def mixed(boundary, text, *parts):
    body = f"--{boundary}\nContent-Type: text/plain; charset=utf-8\n\n{text}\n"
    for part in parts:
        body += f"--{boundary}\n{part}"
    return f'Content-Type: multipart/mixed; boundary="{boundary}"\n\n{body}--{boundary}--\n'


def ubl_invoice(number, day):
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<ubl:Invoice xmlns:ubl="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
    xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
    xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0</cbc:CustomizationID>
  <cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</cbc:ProfileID>
  <cbc:ID>{number}</cbc:ID>
  <cbc:IssueDate>{day}</cbc:IssueDate>
  <cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>
  <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
  <cbc:BuyerReference>04011000-12345-34</cbc:BuyerReference>
  <cac:AccountingSupplierParty><cac:Party>
    <cbc:EndpointID schemeID="EM">rechnung@lieferant.example</cbc:EndpointID>
    <cac:PostalAddress><cbc:CityName>Musterstadt</cbc:CityName><cbc:PostalZone>12345</cbc:PostalZone>
      <cac:Country><cbc:IdentificationCode>DE</cbc:IdentificationCode></cac:Country></cac:PostalAddress>
    <cac:PartyTaxScheme><cbc:CompanyID>DE123456789</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>
    <cac:PartyLegalEntity><cbc:RegistrationName>Lieferant GmbH</cbc:RegistrationName></cac:PartyLegalEntity>
  </cac:Party></cac:AccountingSupplierParty>
  <cac:AccountingCustomerParty><cac:Party>
    <cbc:EndpointID schemeID="EM">einkauf@org.test</cbc:EndpointID>
    <cac:PostalAddress><cbc:CityName>Laborstadt</cbc:CityName><cbc:PostalZone>54321</cbc:PostalZone>
      <cac:Country><cbc:IdentificationCode>DE</cbc:IdentificationCode></cac:Country></cac:PostalAddress>
    <cac:PartyLegalEntity><cbc:RegistrationName>Org Test AG</cbc:RegistrationName></cac:PartyLegalEntity>
  </cac:Party></cac:AccountingCustomerParty>
  <cac:PaymentMeans><cbc:PaymentMeansCode>58</cbc:PaymentMeansCode>
    <cac:PayeeFinancialAccount><cbc:ID>DE02120300000000202051</cbc:ID></cac:PayeeFinancialAccount></cac:PaymentMeans>
  <cac:TaxTotal><cbc:TaxAmount currencyID="EUR">19.00</cbc:TaxAmount>
    <cac:TaxSubtotal><cbc:TaxableAmount currencyID="EUR">100.00</cbc:TaxableAmount><cbc:TaxAmount currencyID="EUR">19.00</cbc:TaxAmount>
      <cac:TaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>19</cbc:Percent><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:TaxCategory>
    </cac:TaxSubtotal></cac:TaxTotal>
  <cac:LegalMonetaryTotal>
    <cbc:LineExtensionAmount currencyID="EUR">100.00</cbc:LineExtensionAmount>
    <cbc:TaxExclusiveAmount currencyID="EUR">100.00</cbc:TaxExclusiveAmount>
    <cbc:TaxInclusiveAmount currencyID="EUR">119.00</cbc:TaxInclusiveAmount>
    <cbc:PayableAmount currencyID="EUR">119.00</cbc:PayableAmount>
  </cac:LegalMonetaryTotal>
  <cac:InvoiceLine><cbc:ID>1</cbc:ID><cbc:InvoicedQuantity unitCode="H87">1</cbc:InvoicedQuantity>
    <cbc:LineExtensionAmount currencyID="EUR">100.00</cbc:LineExtensionAmount>
    <cac:Item><cbc:Name>Laborbedarf</cbc:Name><cac:ClassifiedTaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>19</cbc:Percent>
      <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:ClassifiedTaxCategory></cac:Item>
    <cac:Price><cbc:PriceAmount currencyID="EUR">100.00</cbc:PriceAmount></cac:Price>
  </cac:InvoiceLine>
</ubl:Invoice>
""".encode()


def cii_invoice(number, day, guideline):
    compact = day.replace("-", "")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
    xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
    xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100">
  <rsm:ExchangedDocumentContext>
    <ram:GuidelineSpecifiedDocumentContextParameter><ram:ID>{guideline}</ram:ID></ram:GuidelineSpecifiedDocumentContextParameter>
  </rsm:ExchangedDocumentContext>
  <rsm:ExchangedDocument>
    <ram:ID>{number}</ram:ID>
    <ram:TypeCode>380</ram:TypeCode>
    <ram:IssueDateTime><udt:DateTimeString format="102">{compact}</udt:DateTimeString></ram:IssueDateTime>
  </rsm:ExchangedDocument>
  <rsm:SupplyChainTradeTransaction>
    <ram:ApplicableHeaderTradeAgreement>
      <ram:BuyerReference>04011000-12345-34</ram:BuyerReference>
      <ram:SellerTradeParty><ram:Name>Lieferant GmbH</ram:Name>
        <ram:PostalTradeAddress><ram:CountryID>DE</ram:CountryID></ram:PostalTradeAddress>
        <ram:SpecifiedTaxRegistration><ram:ID schemeID="VA">DE123456789</ram:ID></ram:SpecifiedTaxRegistration>
      </ram:SellerTradeParty>
      <ram:BuyerTradeParty><ram:Name>Org Test AG</ram:Name></ram:BuyerTradeParty>
    </ram:ApplicableHeaderTradeAgreement>
    <ram:ApplicableHeaderTradeDelivery/>
    <ram:ApplicableHeaderTradeSettlement>
      <ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode>
      <ram:SpecifiedTradeSettlementHeaderMonetarySummation>
        <ram:TaxBasisTotalAmount>100.00</ram:TaxBasisTotalAmount>
        <ram:TaxTotalAmount currencyID="EUR">19.00</ram:TaxTotalAmount>
        <ram:GrandTotalAmount>119.00</ram:GrandTotalAmount>
        <ram:DuePayableAmount>119.00</ram:DuePayableAmount>
      </ram:SpecifiedTradeSettlementHeaderMonetarySummation>
    </ram:ApplicableHeaderTradeSettlement>
  </rsm:SupplyChainTradeTransaction>
</rsm:CrossIndustryInvoice>
""".encode()


def pdf_document(embedded=None, stamp="D:20240101000000Z"):
    """A one-page blank PDF; with `embedded` = (name, xml bytes) a PDF/A-3
    style hybrid invoice: EmbeddedFiles name tree, /AF, XMP metadata."""
    objects = []

    def add(body):
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in below
    pages = add(b"")
    page = add(b"")
    contents = add(b"<< /Length 0 >>\nstream\n\nendstream")
    objects[pages - 1] = f"<< /Type /Pages /Kids [{page} 0 R] /Count 1 >>".encode()
    objects[page - 1] = (f"<< /Type /Page /Parent {pages} 0 R /MediaBox [0 0 595 842] "
                         f"/Resources << >> /Contents {contents} 0 R >>").encode()
    extra = b""
    if embedded:
        name, data = embedded
        checksum = hashlib.md5(data).hexdigest().upper()
        stream = add(f"<< /Type /EmbeddedFile /Subtype /text#2Fxml /Length {len(data)} "
                     f"/Params << /Size {len(data)} /ModDate ({stamp}) /CheckSum <{checksum}> >> >>\nstream\n".encode()
                     + data + b"\nendstream")
        spec = add(f"<< /Type /Filespec /F ({name}) /UF ({name}) /Desc (Factur-X invoice) "
                   f"/AFRelationship /Alternative /EF << /F {stream} 0 R /UF {stream} 0 R >> >>".encode())
        xmp = xmp_metadata(name).encode()
        metadata = add(f"<< /Type /Metadata /Subtype /XML /Length {len(xmp)} >>\nstream\n".encode()
                       + xmp + b"\nendstream")
        extra = (f" /Names << /EmbeddedFiles << /Names [({name}) {spec} 0 R] >> >>"
                 f" /AF [{spec} 0 R] /Metadata {metadata} 0 R").encode()
    objects[catalog - 1] = f"<< /Type /Catalog /Pages {pages} 0 R".encode() + extra + b" >>"

    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    identifier = hashlib.md5(bytes(out)).hexdigest()
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root {catalog} 0 R /ID [<{identifier}> <{identifier}>] >>\n"
            f"startxref\n{xref}\n%%EOF\n").encode()
    return bytes(out)


def xmp_metadata(name):
    return f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">
   <pdfaid:part>3</pdfaid:part>
   <pdfaid:conformance>B</pdfaid:conformance>
  </rdf:Description>
  <rdf:Description rdf:about="" xmlns:fx="urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#">
   <fx:DocumentType>INVOICE</fx:DocumentType>
   <fx:DocumentFileName>{name}</fx:DocumentFileName>
   <fx:Version>1.0</fx:Version>
   <fx:ConformanceLevel>MINIMUM</fx:ConformanceLevel>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""


def body(kind, n, year, day, rng):
    """(extra header lines, MIME part of the message) for one kind."""
    number = f"RE-{year}-{n:04d}"
    boundary = f"=_org_{kind}_{n}"
    if kind == "plain":
        return [], ("Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
                    f"Guten Tag,\n\nanbei die Unterlagen zu unserem Gespraech ({n}).\n\nGruss\n")
    if kind == "offer_pdf":
        return [], mixed(boundary, "Anbei unser Angebot.",
                         attachment("application/pdf", "filename", f"Angebot_{year}-{n}.pdf", pdf_document()))
    if kind == "sitemap_xml":
        xml = b'<?xml version="1.0"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"/>\n'
        return [], mixed(boundary, "Die Sitemap.", attachment("application/xml", "filename", "sitemap.xml", xml))
    if kind == "xrechnung_ubl":
        return [], mixed(boundary, f"Rechnung {number} als XRechnung (UBL).",
                         attachment("application/xml", "filename", f"xrechnung_{number}.xml", ubl_invoice(number, day)))
    if kind == "xrechnung_cii":
        guideline = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"
        return [], mixed(boundary, f"Rechnung {number} als XRechnung (CII).",
                         attachment("application/xml", "filename", f"{number}_cii.xml", cii_invoice(number, day, guideline)))
    if kind in ("zugferd_named_pdf", "facturx_hidden_pdf"):
        xml = cii_invoice(number, day, "urn:factur-x.eu:1p0:minimum")
        pdf = pdf_document(("factur-x.xml", xml), stamp=f"D:{day.replace('-', '')}120000Z")
        name = f"ZUGFeRD_{number}.pdf" if kind == "zugferd_named_pdf" else f"Rechnung_{number}.pdf"
        return [], mixed(boundary, f"Rechnung {number} (ZUGFeRD).", attachment("application/pdf", "filename", name, pdf))
    if kind == "invoice_pdf":
        parameter, template, mime = INVOICE_NAMES[n % len(INVOICE_NAMES)]
        headers = []
        if n % 5 == 0:
            # A billing robot: automatic and with an unsubscribe link, but
            # an invoice first (the longer period wins).
            headers = ["Auto-Submitted: auto-generated", "List-Unsubscribe: <mailto:billing-off@lieferant.example>"]
        return headers, mixed(boundary, f"Ihre Rechnung {number}.",
                              attachment(mime, parameter, template.format(y=year, n=n), pdf_document()))
    if kind == "newsletter":
        header = NEWSLETTER_HEADERS[n % len(NEWSLETTER_HEADERS)]
        return [f"{header[0]}: {header[1]}"], (
            "Content-Type: text/plain; charset=utf-8\n\nNeuigkeiten aus dem Labor.\n")
    if kind == "delivery_report":
        return ["Auto-Submitted: auto-replied"] if n % 2 else [], (
            f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\n\n'
            f"--{boundary}\nContent-Type: text/plain\n\nDelivery failed.\n"
            f"--{boundary}\nContent-Type: message/delivery-status\n\n"
            f"Reporting-MTA: dns; mx.org.test\n\nFinal-Recipient: rfc822; gone@lieferant.example\n"
            f"Action: failed\nStatus: 5.1.1\n"
            f"--{boundary}\nContent-Type: text/rfc822-headers\n\nSubject: Angebot {n}\n"
            f"--{boundary}--\n")
    if kind == "read_receipt":
        return [], (
            f'Content-Type: multipart/report; report-type=disposition-notification; boundary="{boundary}"\n\n'
            f"--{boundary}\nContent-Type: text/plain\n\nYour message was displayed.\n"
            f"--{boundary}\nContent-Type: message/disposition-notification\n\n"
            f"Final-Recipient: rfc822; user@org.test\nDisposition: manual-action/MDN-sent-manually; displayed\n"
            f"--{boundary}--\n")
    if kind == "auto_reply":
        return ["Auto-Submitted: auto-replied"], (
            "Content-Type: text/plain; charset=utf-8\n\nIch bin bis Montag nicht im Buero.\n")
    if kind == "calendar":
        ics = (f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//mailaudit lab//EN\nMETHOD:REQUEST\nBEGIN:VEVENT\n"
               f"UID:lab-{year}-{n}@org.test\nDTSTAMP:{day.replace('-', '')}T090000Z\n"
               f"DTSTART:{day.replace('-', '')}T100000Z\nSUMMARY:Abstimmung {n}\nEND:VEVENT\nEND:VCALENDAR\n")
        return [], (f'Content-Type: multipart/alternative; boundary="{boundary}"\n\n'
                    f"--{boundary}\nContent-Type: text/plain; charset=utf-8\n\nEinladung.\n"
                    f"--{boundary}\nContent-Type: text/calendar; charset=utf-8; method=REQUEST\n\n{ics}"
                    f"--{boundary}--\n")
    raise ValueError(f"unknown kind {kind}")

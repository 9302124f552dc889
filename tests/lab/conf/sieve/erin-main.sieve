# erin@cyrus.test, active script "main" (Cyrus timsieved): invoices are
# copied to an external bookkeeper; the rest stays. extern.example is another
# domain (LOC-002 fails); the lab never delivers anything there.
require ["copy", "fileinto"];
if header :contains "subject" "Rechnung" {
  redirect :copy "buchhaltung@extern.example";
}
if header :contains "list-id" "newsletter" {
  fileinto "INBOX.Archive";
}

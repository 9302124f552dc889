# bob@bad.test, active script "main": invoices are copied to an external
# bookkeeper and everything is forwarded to a private address. Both are
# other domains (LOC-002 fails); the lab never delivers anything there.
require ["copy"];
if header :contains "subject" "Rechnung" {
  redirect :copy "buchhaltung@extern.example";
}
redirect "bob@private-mail.example";

# alice@good.test, active script "main": newsletters go to their own folder;
# mail from the managing director is also copied to the office -- inside
# good.test, so this is no external forwarding (LOC-002 passes).
require ["fileinto", "mailbox", "copy"];

if anyof (exists "List-Id", exists "List-Unsubscribe") {
  fileinto :create "Newsletter";
  stop;
}

if address :is "from" "chef@good.test" {
  redirect :copy "office@good.test";
}

# erin@cyrus.test, inactive script "old": must not count for LOC-002.
redirect "erin@private-mail.example";

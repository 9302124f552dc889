# alice@good.test, inactive script "old": forwarded everything to a private
# address once. Not active, so it must not count for LOC-002.
redirect "alice@gmail.example";

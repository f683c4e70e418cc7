"""The shopper's language, shared by search and the agent: which language a message is in
(`detect`), and a message in Hindi, Persian, Russian or Hebrew read into the English and
romanised Hindi words the query parser and the intent classifier know (`reading`)."""

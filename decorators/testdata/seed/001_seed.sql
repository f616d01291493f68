INSERT INTO accounts (email, balance) VALUES ('alice@example.com', 100), ('bob@example.com', 50);

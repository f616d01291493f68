-- Version 1.1 runs between 1 and 2.
ALTER TABLE products ADD price_cents int NOT NULL DEFAULT 0;

CREATE TABLE stock (product_id int REFERENCES products, qty int NOT NULL);

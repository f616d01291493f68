CREATE TABLE customers (id int PRIMARY KEY);

DROP TABLE customers;
DROP TYPE order_status;

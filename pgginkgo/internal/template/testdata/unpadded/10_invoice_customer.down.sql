ALTER TABLE invoices DROP customer_id;

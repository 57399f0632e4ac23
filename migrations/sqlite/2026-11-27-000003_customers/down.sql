DROP TABLE customer_events;
DROP TABLE customers;

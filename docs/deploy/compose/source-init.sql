-- Sample shop data for docs/deploy/docker-compose.yml, and a read-only role for the extractor.
CREATE ROLE etl_reader LOGIN PASSWORD 'reader-local-only';
GRANT CONNECT ON DATABASE shop TO etl_reader;
GRANT USAGE ON SCHEMA public TO etl_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO etl_reader;

CREATE TABLE customers (
  id bigint PRIMARY KEY,
  name text NOT NULL,
  email text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE orders (
  id bigint PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES customers(id),
  amount numeric(14,2) NOT NULL,
  status text NOT NULL,
  payload jsonb,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_updated_at ON orders (updated_at, id);

INSERT INTO customers (id, name, email)
SELECT g, 'Customer ' || g, 'c' || g || '@example.com' FROM generate_series(1, 1000) g;
INSERT INTO orders (id, customer_id, amount, status, payload, updated_at)
SELECT g, 1 + g % 1000, round((random() * 500)::numeric, 2), (ARRAY['new','paid','shipped'])[1 + g % 3],
       jsonb_build_object('items', 1 + g % 5), now() - (g || ' minutes')::interval
FROM generate_series(1, 50000) g;

GRANT SELECT ON ALL TABLES IN SCHEMA public TO etl_reader;

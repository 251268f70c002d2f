-- The demo's sample dataset: a small shop, generated in SQL (generate_series, no row-by-row inserts).
-- Deterministic: every value is a function of the row number, so two runs produce the same data.
--   customers     20,000 rows   text with unicode, varchar, char, bool, int, date, timestamptz (µs), text[], a NULL-heavy column
--   products       2,000 rows   numeric(12,2), float8, jsonb, bytea
--   orders       150,000 rows   numeric(12,2), uuid, jsonb, date, timestamptz (µs), float8, NULL-heavy coupon/note
--   order_items ~450,000 rows   int, numeric(12,2)
-- Run inside one transaction on a fresh database.

CREATE TABLE customers (
  id             bigint PRIMARY KEY,
  email          varchar(120) NOT NULL,
  full_name      text NOT NULL,
  country        char(2) NOT NULL,
  is_active      boolean NOT NULL,
  loyalty_points integer NOT NULL,
  birth_date     date,
  created_at     timestamptz NOT NULL,
  tags           text[] NOT NULL,
  referral_code  text                 -- 95 % NULL
);

INSERT INTO customers
SELECT i,
       'customer' || i || '@example.com',
       (ARRAY['Zoë', 'José', 'Łukasz', 'Søren', 'Ngọc Anh', 'Jürgen', 'Aiyana', 'Saoirse', 'Анна', '李雷',
              '佐藤 花子', 'محمد', 'Zdeněk 🎻', 'Øyvind', 'Renée'])[1 + i % 15]
         || ' ' ||
       (ARRAY['Müller', 'O''Brien', 'García-Márquez', 'Nguyễn', 'Kowalczyk', 'Åström', 'Иванова', '王',
              'Smith', 'D''Angelo 🍕'])[1 + (i / 15) % 10],
       (ARRAY['DE', 'FR', 'US', 'JP', 'BR', 'NO', 'PL', 'VN', 'IN', 'EG'])[1 + (i * 7) % 10],
       i % 11 <> 0,
       (i * 37) % 5000,
       CASE WHEN i % 9 = 0 THEN NULL ELSE date '1950-01-01' + (i * 53) % 20000 END,
       timestamptz '2020-01-01 00:00:00+00' + i * interval '61 minutes' + ((i * 7919) % 1000000) * interval '1 microsecond',
       CASE i % 4 WHEN 0 THEN ARRAY['vip', 'newsletter'] WHEN 1 THEN ARRAY['newsletter']
                  WHEN 2 THEN '{}'::text[] ELSE ARRAY['b2b', 'net-30', 'ünïcødé "quoted"'] END,
       CASE WHEN i % 20 = 0 THEN 'REF-' || upper(substr(md5(i::text), 1, 6)) END
FROM generate_series(1, 20000) AS i;

CREATE TABLE products (
  id         bigint PRIMARY KEY,
  sku        varchar(32) NOT NULL,
  name       text NOT NULL,
  price      numeric(12,2) NOT NULL,
  weight_kg  double precision,
  in_stock   boolean NOT NULL,
  attributes jsonb NOT NULL,
  thumbnail  bytea,
  created_at timestamptz NOT NULL
);

INSERT INTO products
SELECT i,
       'SKU-' || lpad(i::text, 6, '0'),
       (ARRAY['Kaffeebecher', 'Crème brûlée torch', 'Smørrebrød board', 'Tatami mat 畳', 'Matcha whisk 茶筅',
              'Piñata', 'Ёлочная игрушка', 'Café au lait bowl'])[1 + i % 8] || ' #' || i,
       round(1 + ((i * 7919) % 99999) / 100.0, 2),
       CASE WHEN i % 13 = 0 THEN NULL ELSE ((i * 31) % 25000) / 1000.0 + 0.001 END,
       i % 17 <> 0,
       jsonb_build_object(
         'color', (ARRAY['red', 'green', 'blue', 'schwarz', '白'])[1 + i % 5],
         'size', (ARRAY['S', 'M', 'L', 'XL'])[1 + i % 4],
         'dimensions_cm', jsonb_build_array(10 + i % 50, 5 + i % 20, 1.5 + i % 7),
         'fragile', i % 6 = 0),
       CASE WHEN i % 10 = 0 THEN NULL ELSE decode(md5('product' || i) || md5('thumb' || i), 'hex') END,
       timestamptz '2019-06-01 08:00:00+00' + i * interval '3 hours 17 minutes' + ((i * 104729) % 1000000) * interval '1 microsecond'
FROM generate_series(1, 2000) AS i;

CREATE TABLE order_items (
  id         bigint PRIMARY KEY,
  order_id   bigint NOT NULL,
  product_id bigint NOT NULL,
  quantity   integer NOT NULL,
  unit_price numeric(12,2) NOT NULL
);

-- order o has 1 + o % 5 items (3 on average)
INSERT INTO order_items
SELECT o * 10 + k, o, p.id, 1 + (o + k) % 4, p.price
FROM generate_series(1, 150000) AS o
CROSS JOIN LATERAL generate_series(1, 1 + o % 5) AS k
JOIN products p ON p.id = 1 + (o * 31 + k * 17) % 2000;

CREATE TABLE orders (
  id               bigint PRIMARY KEY,
  customer_id      bigint NOT NULL,
  status           varchar(20) NOT NULL,
  ordered_at       timestamptz NOT NULL,
  ship_date        date,
  total            numeric(12,2) NOT NULL,
  discount_rate    double precision NOT NULL,
  is_gift          boolean NOT NULL,
  coupon_code      text,            -- 80 % NULL
  tracking_id      uuid,
  shipping_address jsonb,
  note             text             -- 97 % NULL
);

INSERT INTO orders
SELECT o,
       1 + (o * 7919) % 20000,
       (ARRAY['pending', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded'])[1 + (o * 13) % 6],
       timestamptz '2023-01-01 00:00:00+00' + o * interval '207 seconds' + ((o * 7919) % 1000000) * interval '1 microsecond',
       CASE WHEN (o * 13) % 6 IN (2, 3) THEN date '2023-01-01' + (o * 207 / 86400) + 1 + o % 4 END,
       t.total,
       CASE WHEN o % 7 = 0 THEN 0.15 WHEN o % 5 = 0 THEN 0.05 ELSE 0 END,
       o % 23 = 0,
       CASE WHEN o % 5 = 0 THEN (ARRAY['WELCOME10', 'BLACKFRIDAY', 'SOMMER-2023', 'ÉTÉ'])[1 + o % 4] END,
       CASE WHEN (o * 13) % 6 IN (2, 3) THEN md5('order' || o)::uuid END,
       CASE WHEN o % 50 = 0 THEN NULL ELSE jsonb_build_object(
         'street', (o % 999 + 1) || ' ' || (ARRAY['Hauptstraße', 'Rue de Rivoli', 'Main St', 'Nørregade', '銀座通り'])[1 + o % 5],
         'zip', lpad(((o * 97) % 99999)::text, 5, '0'),
         'city', (ARRAY['Berlin', 'Paris', 'Springfield', 'København', '東京'])[1 + o % 5]) END,
       CASE WHEN o % 33 = 0 THEN 'Bitte klingeln 🔔 — leave at the door, merci !' END
FROM generate_series(1, 150000) AS o
JOIN (SELECT order_id, sum(quantity * unit_price) AS total FROM order_items GROUP BY order_id) t ON t.order_id = o;

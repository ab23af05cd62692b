-- Orders, their allocations per source, and transfers between locations. Every unit these
-- tables speak of also moves through the ledger (movements); these tables say why.

ALTER TABLE movements DROP CONSTRAINT movement_kind_effect;
ALTER TABLE movements ADD CONSTRAINT movement_kind_effect CHECK (
    (kind = 'receipt'      AND qty > 0 AND on_hand_delta = qty  AND allocated_delta = 0    AND in_transit_delta = 0) OR
    (kind = 'return'       AND qty > 0 AND on_hand_delta = qty  AND allocated_delta = 0    AND in_transit_delta = 0) OR
    (kind = 'sale'         AND qty > 0 AND on_hand_delta = -qty AND allocated_delta = 0    AND in_transit_delta = 0) OR
    (kind = 'adjustment'   AND qty = abs(on_hand_delta) AND qty > 0 AND reason IS NOT NULL
                           AND allocated_delta = 0 AND in_transit_delta = 0) OR
    (kind = 'count'        AND allocated_delta = 0 AND in_transit_delta = 0) OR
    (kind = 'allocation'   AND qty > 0 AND on_hand_delta = 0    AND allocated_delta = qty  AND in_transit_delta = 0) OR
    (kind = 'deallocation' AND qty > 0 AND on_hand_delta = 0    AND allocated_delta = -qty AND in_transit_delta = 0) OR
    (kind = 'fulfilment'   AND qty > 0 AND on_hand_delta = -qty AND allocated_delta = -qty AND in_transit_delta = 0) OR
    (kind = 'transfer_out' AND qty > 0 AND on_hand_delta = -qty AND allocated_delta = -qty AND in_transit_delta = 0) OR
    (kind = 'in_transit'   AND qty > 0 AND on_hand_delta = 0    AND allocated_delta = 0    AND in_transit_delta = qty) OR
    (kind = 'transfer_in'  AND qty >= 0 AND on_hand_delta = qty AND allocated_delta = 0    AND in_transit_delta < 0)
);

ALTER TABLE discrepancies DROP CONSTRAINT discrepancy_kind_known;
ALTER TABLE discrepancies ADD CONSTRAINT discrepancy_kind_known
    CHECK (kind IN ('sale_exceeded_on_hand', 'on_hand_below_allocated', 'transfer_short'));

CREATE TABLE orders (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_order_id  text NOT NULL CONSTRAINT orders_client_order_id_key UNIQUE
                     CONSTRAINT order_id_format CHECK (client_order_id ~ '^[A-Za-z0-9._-]{1,64}$'),
    request_hash     bytea NOT NULL,
    mode             text NOT NULL CONSTRAINT order_mode_known CHECK (mode IN ('ship', 'pickup')),
    pickup_location_id bigint REFERENCES locations (id),
    latitude         double precision,
    longitude        double precision,
    allow_split      boolean NOT NULL,
    status           text NOT NULL DEFAULT 'open'
                     CONSTRAINT order_status_known CHECK (status IN ('open', 'cancelled', 'completed')),
    referrer_location_id bigint REFERENCES locations (id),
    referrer_clerk   text CONSTRAINT order_referrer_clerk_length CHECK (length(referrer_clerk) BETWEEN 1 AND 64),
    referrer_credited boolean NOT NULL DEFAULT false,
    cost             jsonb NOT NULL,
    response         jsonb NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT order_mode_fields CHECK (
        (mode = 'ship' AND latitude IS NOT NULL AND longitude IS NOT NULL AND pickup_location_id IS NULL) OR
        (mode = 'pickup' AND pickup_location_id IS NOT NULL AND latitude IS NULL AND longitude IS NULL)),
    CONSTRAINT order_referrer_whole CHECK ((referrer_location_id IS NULL) = (referrer_clerk IS NULL))
);
CREATE INDEX orders_by_time ON orders (created_at);

CREATE TABLE transfers (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sku_id           bigint NOT NULL REFERENCES skus (id),
    from_location_id bigint NOT NULL REFERENCES locations (id),
    to_location_id   bigint NOT NULL REFERENCES locations (id),
    qty              bigint NOT NULL CONSTRAINT transfer_qty_positive CHECK (qty > 0),
    received         bigint CONSTRAINT transfer_received_range CHECK (received BETWEEN 0 AND qty),
    status           text NOT NULL DEFAULT 'planned'
                     CONSTRAINT transfer_status_known CHECK (status IN ('planned', 'shipped', 'received', 'cancelled')),
    reason           text NOT NULL CONSTRAINT transfer_reason_known
                     CHECK (reason IN ('order', 'clerk', 'replenishment', 'rebalance')),
    order_id         bigint REFERENCES orders (id),
    lead_time_hours  double precision NOT NULL CHECK (lead_time_hours >= 0),
    created_at       timestamptz NOT NULL DEFAULT now(),
    shipped_at       timestamptz,
    received_at      timestamptz,
    cancelled_at     timestamptz,
    CONSTRAINT transfer_between_two_places CHECK (from_location_id <> to_location_id),
    CONSTRAINT transfer_order_reason CHECK ((reason = 'order') = (order_id IS NOT NULL)),
    CONSTRAINT transfer_received_when_received CHECK ((status = 'received') = (received IS NOT NULL))
);
CREATE INDEX transfers_by_from ON transfers (from_location_id, status);
CREATE INDEX transfers_by_to ON transfers (to_location_id, status);

-- What one order takes from one source for one SKU, and how much of it has happened.
CREATE TABLE order_lines (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id         bigint NOT NULL REFERENCES orders (id),
    sku_id           bigint NOT NULL REFERENCES skus (id),
    source_location_id bigint NOT NULL REFERENCES locations (id),
    route            text NOT NULL CONSTRAINT order_line_route_known CHECK (route IN ('ship', 'pickup', 'transfer')),
    transfer_id      bigint REFERENCES transfers (id),
    qty              bigint NOT NULL CONSTRAINT order_line_qty_positive CHECK (qty > 0),
    fulfilled        bigint NOT NULL DEFAULT 0,
    cancelled        bigint NOT NULL DEFAULT 0,
    returned         bigint NOT NULL DEFAULT 0,
    ready_at         timestamptz NOT NULL,
    CONSTRAINT order_line_progress CHECK (fulfilled >= 0 AND cancelled >= 0 AND fulfilled + cancelled <= qty),
    CONSTRAINT order_line_returns CHECK (returned BETWEEN 0 AND fulfilled),
    CONSTRAINT order_line_transfer_route CHECK ((route = 'transfer') = (transfer_id IS NOT NULL)),
    UNIQUE (order_id, sku_id, source_location_id)
);
CREATE INDEX order_lines_by_transfer ON order_lines (transfer_id);

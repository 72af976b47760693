--
-- PostgreSQL database dump
--

\restrict gKCnb6lyCmpIgwIYRW2upuarBIlGU7Ihyca0CCvWuP2C4s4HgQpYC5AsVtgqUHU

-- Dumped from database version 15.20 (Debian 15.20-0+deb12u1)
-- Dumped by pg_dump version 15.20 (Debian 15.20-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: articles; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.articles (
    id character varying(64) NOT NULL,
    status character varying(20) NOT NULL,
    public bigint NOT NULL,
    updated_at character varying(32) NOT NULL,
    data text NOT NULL,
    seq bigint NOT NULL
);


--
-- Name: blobs; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.blobs (
    sha256 character varying(64) NOT NULL,
    size bigint NOT NULL,
    data bytea NOT NULL,
    created_at character varying(32) NOT NULL
);


--
-- Name: counters; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.counters (
    name character varying(64) NOT NULL,
    value bigint NOT NULL
);


--
-- Name: delegations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.delegations (
    name character varying(200) NOT NULL,
    data text NOT NULL,
    seq bigint NOT NULL
);


--
-- Name: devices; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.devices (
    name character varying(200) NOT NULL,
    role character varying(20) NOT NULL,
    token_hash character varying(64) NOT NULL,
    prefix character varying(12),
    public_key text,
    key_id character varying(64),
    created_at character varying(32) NOT NULL,
    revoked_at character varying(32),
    last_client_seq bigint NOT NULL
);


--
-- Name: events; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.events (
    seq bigint NOT NULL,
    id character varying(36) NOT NULL,
    mutation_id character varying(36) NOT NULL,
    ticket character varying(64),
    type character varying(64) NOT NULL,
    payload text NOT NULL,
    actor character varying(200) NOT NULL,
    device character varying(200) NOT NULL,
    at character varying(32) NOT NULL
);


--
-- Name: intake_hits; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.intake_hits (
    source character varying(64) NOT NULL,
    address character varying(64) NOT NULL,
    at bigint NOT NULL
);


--
-- Name: intake_refs; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.intake_refs (
    source character varying(64) NOT NULL,
    ref character varying(300) NOT NULL,
    ticket character varying(64) NOT NULL,
    seq bigint NOT NULL
);


--
-- Name: notifications; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.notifications (
    id bigint NOT NULL,
    created_at character varying(32) NOT NULL,
    target character varying(200) NOT NULL,
    url text NOT NULL,
    body text NOT NULL,
    ticket character varying(64),
    rule character varying(200) NOT NULL,
    status character varying(16) NOT NULL,
    attempts bigint NOT NULL,
    last_error text,
    next_attempt_at character varying(32) NOT NULL,
    sent_at character varying(32)
);


--
-- Name: notifications_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.notifications_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: notifications_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.notifications_id_seq OWNED BY public.notifications.id;


--
-- Name: results; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.results (
    seq bigint NOT NULL,
    device character varying(200) NOT NULL,
    client_seq bigint NOT NULL,
    mutation_id character varying(36) NOT NULL,
    name character varying(64) NOT NULL,
    status character varying(16) NOT NULL,
    reason text,
    at character varying(32) NOT NULL
);


--
-- Name: server_meta; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.server_meta (
    key character varying(64) NOT NULL,
    value text NOT NULL
);


--
-- Name: sources; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.sources (
    name character varying(64) NOT NULL,
    kind character varying(20) NOT NULL,
    secret text,
    created_at character varying(32) NOT NULL
);


--
-- Name: technicians; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.technicians (
    name character varying(200) NOT NULL,
    data text NOT NULL,
    seq bigint NOT NULL
);


--
-- Name: tickets; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.tickets (
    key character varying(64) NOT NULL,
    status character varying(20) NOT NULL,
    assignee character varying(200),
    updated_at character varying(32) NOT NULL,
    data text NOT NULL,
    seq bigint NOT NULL
);


--
-- Name: notifications id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notifications ALTER COLUMN id SET DEFAULT nextval('public.notifications_id_seq'::regclass);


--
-- Data for Name: articles; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.articles VALUES ('KB-DAN-1', 'active', 1, '2026-11-30T09:00:00Z', '{"author":"dana","cause":"","created_at":"2026-11-30T09:00:00Z","dept":"","editors":[],"fault":"","id":"KB-DAN-1","problem":"","product":"","public":true,"published_at":"2026-11-30T09:00:00Z","retire_reason":null,"retired_at":null,"solution":"Reset it.","source":null,"status":"active","steps":["H","o","l","d","r","e","s","e","t","5","s","."],"tags":[],"title":"Resetting a boiler","updated_at":"2026-11-30T09:00:00Z","version":1}', 12);


--
-- Data for Name: blobs; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: counters; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.counters VALUES ('tickets:ALR', 1);
INSERT INTO public.counters VALUES ('seq', 19);


--
-- Data for Name: delegations; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: devices; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.devices VALUES ('intake:prometheus', 'intake', '526703eb73dea7c58a5185fd14f9e77cd9d0ac676b6fff10aabebf812fe12883', 'ALR', NULL, NULL, '2026-12-07T03:17:37Z', NULL, 0);
INSERT INTO public.devices VALUES ('dana', 'dispatcher', 'a508c5f405277e7ffaae399d823892d0d0d02ad23c3542baa77f18711822ac82', 'DAN', NULL, NULL, '2026-12-07T03:17:37Z', NULL, 6);
INSERT INTO public.devices VALUES ('tom', 'technician', 'f93561a61c45bb51c2c03e3b5a28709b7ad0574915a7d166e82c9a1b1f572718', 'TOM', NULL, NULL, '2026-12-07T03:17:37Z', NULL, 3);


--
-- Data for Name: events; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.events VALUES (1, 'f2043a98-244d-48f7-b54c-c66edcbd3fc4', '4e904c6b-e84c-47a8-a347-c6fa5a5514bd', NULL, 'tech.added', '{"capacity":5,"name":"tom","skills":["hvac"]}', 'dana', 'dana', '2026-11-30T09:00:00Z');
INSERT INTO public.events VALUES (3, '355967f3-bd02-4550-923a-f01b511b4b6d', '0fc98bae-8844-4d4b-ba5e-ddf0975b4dd4', 'DAN-1', 'ticket.created', '{"customer":"Ada Lovelace","dept":"facilities","fault":"pressure","impact":"user","phone":"+44 20 7946 0000","priority":"high","product":"hvac","title":"Boiler pressure low","type":"repair"}', 'dana', 'dana', '2026-11-30T09:00:00Z');
INSERT INTO public.events VALUES (5, '39cf5cba-815a-4eba-a6cc-5ba7d7bd3169', '7f602d6c-b193-4d56-93cd-fc0d07cb77a3', 'DAN-1', 'ticket.assigned', '{"assignee":"tom"}', 'dana', 'dana', '2026-11-30T09:00:00Z');
INSERT INTO public.events VALUES (7, 'ed093b34-78f6-4a82-87a8-b80492cee028', '0ea96862-78f6-495f-bc39-921e70312036', 'DAN-2', 'ticket.created', '{"customer":"Ada Lovelace","dept":"facilities","fault":"pressure","impact":"user","phone":"+44 20 7946 0000","priority":"high","product":"lift","title":"Lift stuck on floor 3","type":"repair"}', 'dana', 'dana', '2026-11-30T09:00:00Z');
INSERT INTO public.events VALUES (9, '41a89b95-ac94-4f63-a803-29edba875691', 'd3fc33ef-6507-4c0c-9598-3e3cd55e3e6e', 'KB-DAN-1', 'kb.added', '{"id":"KB-DAN-1","solution":"Reset it.","steps":["H","o","l","d","r","e","s","e","t","5","s","."],"title":"Resetting a boiler"}', 'dana', 'dana', '2026-11-30T09:00:00Z');
INSERT INTO public.events VALUES (11, '19a5c646-8334-4436-a0ce-0f6a5d8524e2', '068b4a64-192f-4c73-8009-ab0290e02fb1', 'KB-DAN-1', 'kb.published', '{"id":"KB-DAN-1","public":true}', 'dana', 'dana', '2026-11-30T09:00:00Z');
INSERT INTO public.events VALUES (13, '41ebebe1-a07e-4cae-a50d-40d4ce6c4051', '49053ae0-b594-4fac-b654-a4c0e913e1a6', 'DAN-1', 'ticket.started', '{}', 'tom', 'tom', '2026-11-30T09:00:00Z');
INSERT INTO public.events VALUES (15, '3cf90dfd-62f2-4820-8e3d-724ed5d35233', 'b64feef9-0858-4b25-b242-367cf53ae94c', 'DAN-1', 'ticket.noted', '{"text":"valve replaced"}', 'tom', 'tom', '2026-11-30T09:00:00Z');
INSERT INTO public.events VALUES (17, 'ce757b70-20e0-4c00-8d72-c84ed2b43aa1', '8b0f1871-adc7-409a-9ed9-9110897a8736', 'DAN-1', 'ticket.resolved', '{}', 'tom', 'tom', '2026-11-30T09:00:00Z');
INSERT INTO public.events VALUES (19, 'a288af8b-c5e9-4420-a36d-19367a1016d7', '1298fe6f-3621-46b6-bb62-e2624db414f8', 'ALR-1', 'ticket.created', '{"channel":"alert","dept":"operations","description":"alertname=DiskFull, instance=db1","fault":"DiskFull","impact":"system","priority":"medium","product":"general","title":"disk 95% full","type":"repair"}', 'intake:prometheus', 'intake:prometheus', '2026-12-07T03:17:37Z');


--
-- Data for Name: intake_hits; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: intake_refs; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.intake_refs VALUES ('prometheus', 'f00d', 'ALR-1', 19);


--
-- Data for Name: notifications; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: results; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.results VALUES (2, 'dana', 1, '4e904c6b-e84c-47a8-a347-c6fa5a5514bd', 'tech.add', 'applied', NULL, '2026-12-07T03:17:37Z');
INSERT INTO public.results VALUES (4, 'dana', 2, '0fc98bae-8844-4d4b-ba5e-ddf0975b4dd4', 'ticket.create', 'applied', NULL, '2026-12-07T03:17:37Z');
INSERT INTO public.results VALUES (6, 'dana', 3, '7f602d6c-b193-4d56-93cd-fc0d07cb77a3', 'ticket.assign', 'applied', NULL, '2026-12-07T03:17:37Z');
INSERT INTO public.results VALUES (8, 'dana', 4, '0ea96862-78f6-495f-bc39-921e70312036', 'ticket.create', 'applied', NULL, '2026-12-07T03:17:37Z');
INSERT INTO public.results VALUES (10, 'dana', 5, 'd3fc33ef-6507-4c0c-9598-3e3cd55e3e6e', 'kb.add', 'applied', NULL, '2026-12-07T03:17:37Z');
INSERT INTO public.results VALUES (12, 'dana', 6, '068b4a64-192f-4c73-8009-ab0290e02fb1', 'kb.publish', 'applied', NULL, '2026-12-07T03:17:37Z');
INSERT INTO public.results VALUES (14, 'tom', 1, '49053ae0-b594-4fac-b654-a4c0e913e1a6', 'ticket.start', 'applied', NULL, '2026-12-07T03:17:37Z');
INSERT INTO public.results VALUES (16, 'tom', 2, 'b64feef9-0858-4b25-b242-367cf53ae94c', 'ticket.note', 'applied', NULL, '2026-12-07T03:17:37Z');
INSERT INTO public.results VALUES (18, 'tom', 3, '8b0f1871-adc7-409a-9ed9-9110897a8736', 'ticket.resolve', 'applied', NULL, '2026-12-07T03:17:37Z');


--
-- Data for Name: server_meta; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.server_meta VALUES ('epoch', '00c3488a64fb40509c29079ed87c81ad');
INSERT INTO public.server_meta VALUES ('signing_key', '-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIHR80hWNLOkmm9StYJmUEmRaWRvhPHIeACXKZf9Ssi3x
-----END PRIVATE KEY-----
');
INSERT INTO public.server_meta VALUES ('version', '4');


--
-- Data for Name: sources; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.sources VALUES ('prometheus', 'alertmanager', NULL, '2026-12-07T03:17:37Z');


--
-- Data for Name: technicians; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.technicians VALUES ('tom', '{"capacity":5,"created_at":"2026-11-30T09:00:00Z","delegate":null,"dept":"","lat":null,"lon":null,"name":"tom","on_leave":false,"on_shift":true,"senior":false,"skills":["hvac"],"updated_at":"2026-11-30T09:00:00Z","zone":""}', 12);


--
-- Data for Name: tickets; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.tickets VALUES ('DAN-2', 'new', NULL, '2026-11-30T09:00:00Z', '{"approvals":[],"assignee":null,"block":{},"blocked_reason":null,"blocked_seconds":{},"blocked_since":null,"cancel_reason":null,"certificates":[],"channel":"","checks":{},"closed_at":null,"confirm_tokens":{},"confirmation":{},"created_at":"2026-11-30T09:00:00Z","customer":"Ada Lovelace","dept":"facilities","description":"","escalations":{},"evidence":[],"fault":"pressure","first_response_at":null,"impact":"user","key":"DAN-2","links":[],"parent":null,"phone":"+44 20 7946 0000","priority":"high","product":"lift","qa":[],"reopen_count":0,"resolution":"","resolve_due_bt":252752400,"resolve_left_s":null,"resolve_target_s":28800,"resolved_at":null,"response_due_bt":252727200,"skills":[],"stall":{},"status":"new","status_before_block":null,"status_since":"2026-11-30T09:00:00Z","title":"Lift stuck on floor 3","type":"repair","updated_at":"2026-11-30T09:00:00Z","zone":""}', 12);
INSERT INTO public.tickets VALUES ('DAN-1', 'resolved', 'tom', '2026-11-30T09:00:00Z', '{"approvals":[],"assignee":"tom","block":{},"blocked_reason":null,"blocked_seconds":{},"blocked_since":null,"cancel_reason":null,"certificates":[],"channel":"","checks":{},"closed_at":null,"confirm_tokens":{},"confirmation":{},"created_at":"2026-11-30T09:00:00Z","customer":"Ada Lovelace","dept":"facilities","description":"","escalations":{},"evidence":[],"fault":"pressure","first_response_at":"2026-11-30T09:00:00Z","impact":"user","key":"DAN-1","links":[],"parent":null,"phone":"+44 20 7946 0000","priority":"high","product":"hvac","qa":[],"reopen_count":0,"resolution":"","resolve_due_bt":null,"resolve_left_s":28800,"resolve_target_s":28800,"resolved_at":"2026-11-30T09:00:00Z","response_due_bt":252727200,"skills":[],"stall":{},"status":"resolved","status_before_block":null,"status_since":"2026-11-30T09:00:00Z","title":"Boiler pressure low","type":"repair","updated_at":"2026-11-30T09:00:00Z","zone":""}', 18);
INSERT INTO public.tickets VALUES ('ALR-1', 'new', NULL, '2026-12-07T03:17:37Z', '{"approvals":[],"assignee":null,"block":{},"blocked_reason":null,"blocked_seconds":{},"blocked_since":null,"cancel_reason":null,"certificates":[],"channel":"alert","checks":{},"closed_at":null,"confirm_tokens":{},"confirmation":{},"created_at":"2026-12-07T03:17:37Z","customer":"","dept":"operations","description":"alertname=DiskFull, instance=db1","escalations":{},"evidence":[],"fault":"DiskFull","first_response_at":null,"impact":"system","key":"ALR-1","links":[],"parent":null,"phone":"","priority":"medium","product":"general","qa":[],"reopen_count":0,"resolution":"","resolve_due_bt":253008000,"resolve_left_s":null,"resolve_target_s":108000,"resolved_at":null,"response_due_bt":252914400,"skills":[],"stall":{},"status":"new","status_before_block":null,"status_since":"2026-12-07T03:17:37Z","title":"disk 95% full","type":"repair","updated_at":"2026-12-07T03:17:37Z","zone":""}', 19);


--
-- Name: notifications_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.notifications_id_seq', 1, false);


--
-- Name: articles articles_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.articles
    ADD CONSTRAINT articles_pkey PRIMARY KEY (id);


--
-- Name: blobs blobs_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.blobs
    ADD CONSTRAINT blobs_pkey PRIMARY KEY (sha256);


--
-- Name: counters counters_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.counters
    ADD CONSTRAINT counters_pkey PRIMARY KEY (name);


--
-- Name: delegations delegations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.delegations
    ADD CONSTRAINT delegations_pkey PRIMARY KEY (name);


--
-- Name: devices devices_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.devices
    ADD CONSTRAINT devices_pkey PRIMARY KEY (name);


--
-- Name: devices devices_token_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.devices
    ADD CONSTRAINT devices_token_hash_key UNIQUE (token_hash);


--
-- Name: events events_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.events
    ADD CONSTRAINT events_id_key UNIQUE (id);


--
-- Name: events events_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.events
    ADD CONSTRAINT events_pkey PRIMARY KEY (seq);


--
-- Name: intake_refs intake_refs_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.intake_refs
    ADD CONSTRAINT intake_refs_pkey PRIMARY KEY (source, ref);


--
-- Name: notifications notifications_once; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notifications
    ADD CONSTRAINT notifications_once UNIQUE (ticket, rule, target);


--
-- Name: notifications notifications_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notifications
    ADD CONSTRAINT notifications_pkey PRIMARY KEY (id);


--
-- Name: results results_device_mutation; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.results
    ADD CONSTRAINT results_device_mutation UNIQUE (device, mutation_id);


--
-- Name: results results_device_seq; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.results
    ADD CONSTRAINT results_device_seq UNIQUE (device, client_seq);


--
-- Name: results results_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.results
    ADD CONSTRAINT results_pkey PRIMARY KEY (seq);


--
-- Name: server_meta server_meta_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.server_meta
    ADD CONSTRAINT server_meta_pkey PRIMARY KEY (key);


--
-- Name: sources sources_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sources
    ADD CONSTRAINT sources_pkey PRIMARY KEY (name);


--
-- Name: technicians technicians_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.technicians
    ADD CONSTRAINT technicians_pkey PRIMARY KEY (name);


--
-- Name: tickets tickets_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tickets
    ADD CONSTRAINT tickets_pkey PRIMARY KEY (key);


--
-- Name: intake_hits_address; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX intake_hits_address ON public.intake_hits USING btree (source, address, at);


--
-- Name: server_articles_public; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX server_articles_public ON public.articles USING btree (public, status);


--
-- Name: server_events_ticket; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX server_events_ticket ON public.events USING btree (ticket, seq);


--
-- Name: server_notifications_due; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX server_notifications_due ON public.notifications USING btree (status, next_attempt_at);


--
-- Name: server_results_device; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX server_results_device ON public.results USING btree (device, seq);


--
-- Name: server_tickets_assignee; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX server_tickets_assignee ON public.tickets USING btree (assignee, status);


--
-- PostgreSQL database dump complete
--

\unrestrict gKCnb6lyCmpIgwIYRW2upuarBIlGU7Ihyca0CCvWuP2C4s4HgQpYC5AsVtgqUHU


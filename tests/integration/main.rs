//! Integration tests: the real `bizbot` binary, the real model (when
//! `scripts/setup.sh` has prepared it; the README's test command always does and
//! sets BIZBOT_REQUIRE_TEST_DEPS so a missing model fails instead of skipping).

mod abuse;
mod agents;
mod cases;
mod channels;
mod cli;
mod common;
mod desk;
mod http;
mod learn;
mod model;
mod openapi;
mod replicas;
mod retrieval;
mod trust;
mod turns;
mod widget;

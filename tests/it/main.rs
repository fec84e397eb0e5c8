//! The integration tests, as one test binary: on two cores, linking one binary instead of one
//! per file is most of what `cargo test` spends (figures in docs/performance.md).
//!
//! Each module is one suite; `cargo test --test it SUITE::` runs one of them.

mod common;
mod sim_support;
mod support;

mod architecture;
mod bad_input;
mod cli;
mod cli_extras;
mod client_lever;
mod client_lever_variants;
mod client_oauth;
mod client_willo;
mod client_willo_variants;
mod completion_notes;
mod config_operator;
mod config_validation;
mod connect_process;
mod convergence;
mod crash_matrix;
mod daemon_process;
mod decoder_props;
mod doctor_checks;
mod doctor_process;
mod fault_matrix;
mod flood;
mod hostile_clients;
mod instances;
mod issue10;
mod issue11;
mod issue12;
mod logs_process;
mod monitoring;
mod once_process;
mod operator_output;
mod plan_cases;
mod plan_notes;
mod plan_props;
mod read_only_state;
mod reconcile_rules;
mod reload_process;
mod sandbox;
mod secrets_scan;
mod signals_process;
mod sim_faults;
mod sim_lever;
mod sim_lever_variants;
mod sim_willo;
mod sim_willo_variants;
mod status_check;
mod store;
mod systemd_units;
mod webhook_hardening;
mod willo_webhook_bodies;

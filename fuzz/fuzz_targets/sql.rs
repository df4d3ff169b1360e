#![no_main]
#[path = "../src/harness.rs"]
mod harness;

use std::sync::LazyLock;

static SCHEMA: LazyLock<dataverse::Schema> = LazyLock::new(dataverse::Schema::standard);

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::sql_harness(&SCHEMA, data));

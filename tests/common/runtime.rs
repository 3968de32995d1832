//! The built bootstraps under the Runtime API emulator (`knotie_local::emulator`), found in
//! `KNOTIE_BIN_DIR`; a test fails where the emulator reports an error.

use std::path::PathBuf;

use knotie_local::emulator;
use serde_json::Value;

pub use knotie_local::emulator::Outcome;

/// One function process under the emulator.
pub struct Function(emulator::Function);

impl Function {
    /// Starts the binary `name` with the Lambda environment and `env`.
    pub async fn start(name: &str, env: &[(&str, String)]) -> Function {
        let binary = PathBuf::from(super::env("KNOTIE_BIN_DIR")).join(name);
        Function(emulator::Function::start(&binary, env).await.unwrap())
    }

    /// Sends one event and waits for what the function makes of it.
    pub async fn invoke(&mut self, event: &Value) -> Outcome {
        self.0.invoke(event).await.unwrap()
    }

    /// Waits until the function asks for its next event: done with everything sent so far.
    pub async fn idle(&self) {
        self.0.idle().await.unwrap()
    }

    /// Everything the process printed so far, stdout and stderr.
    pub fn output(&self) -> String {
        self.0.output()
    }

    /// Waits for the process to end (a failed init) and returns its status and output.
    pub async fn exit(self) -> (std::process::ExitStatus, String) {
        self.0.exit().await.unwrap()
    }
}

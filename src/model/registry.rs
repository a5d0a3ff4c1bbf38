//! The registry: where it is reached and what ARM says of it.

use serde_json::Value;

/// Where the registry is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginServer {
    /// Lower-case host name, without port.
    pub host: String,
    pub port: Option<u16>,
    /// `https`, or `http` for loopback only.
    pub scheme: String,
    /// Where it came from: `flag`, `arm`, `suffix`.
    pub source: String,
}

impl LoginServer {
    /// `host[:port]`, as docker and the challenge's service use it.
    pub fn authority(&self) -> String {
        match self.port {
            Some(p) => format!("{}:{}", self.host, p),
            None => self.host.clone(),
        }
    }

    pub fn base_url(&self) -> String {
        format!("{}://{}", self.scheme, self.authority())
    }

    pub fn port_or_default(&self) -> u16 {
        self.port
            .unwrap_or(if self.scheme == "http" { 80 } else { 443 })
    }
}

/// The registry resource as ARM returns it.
#[derive(Debug, Clone)]
pub struct ArmRegistry {
    pub id: String,
    pub subscription: String,
    pub resource_group: String,
    pub name: String,
    /// The whole resource JSON (properties, identity, ...).
    pub resource: Value,
}

impl ArmRegistry {
    pub fn property(&self, path: &str) -> Option<&Value> {
        let mut v = self.resource.get("properties")?;
        for part in path.split('.') {
            v = v.get(part)?;
        }
        Some(v)
    }
}

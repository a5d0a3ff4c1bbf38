//! Network clients (clients only: they return data and errors, never findings): what kind of
//! network an address belongs to, the DNS resolver, proxy rules and CONNECT tunnels, TCP
//! connections and TLS verification. The checks that explain their answers are in
//! `checks/network/`.

pub mod addr;
pub mod dns;
pub mod proxy;
pub mod tcp;
pub mod tls;

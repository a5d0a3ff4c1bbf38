//! Docker environment checks: client, daemon, config, stored credentials, helm, daemon-side login.

use super::{Check, Fact, Group, Pending};

pub fn checks() -> Vec<Box<dyn Check>> {
    vec![
        Box::new(Pending {
            id: "docker.client",
            group: Group::Environment,
            title: ("docker client", "docker クライアント"),
            needs: &[],
            provides: &[Fact::DockerClient],
        }),
        Box::new(Pending {
            id: "docker.daemon",
            group: Group::Environment,
            title: ("docker daemon", "docker デーモン"),
            needs: &[],
            provides: &[Fact::DockerDaemon],
        }),
        Box::new(Pending {
            id: "docker.config",
            group: Group::Environment,
            title: ("docker config", "docker 構成"),
            needs: &[],
            provides: &[Fact::DockerConfig],
        }),
        Box::new(Pending {
            id: "helm.client",
            group: Group::Environment,
            title: ("helm client", "helm クライアント"),
            needs: &[],
            provides: &[],
        }),
    ]
}

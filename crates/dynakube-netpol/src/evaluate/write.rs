//! Writing the evaluator's inputs back as YAML, as `kubectl get ... -o yaml` prints them: the
//! inverse of [`read`](super::read), for cases a reviewer or another analyzer can rerun.

use std::path::Path;

use k8s_openapi::api::networking::v1::NetworkPolicy;
use serde_json::{Value, json};

use super::{Namespace, Pod};

/// An evaluator case: a cluster's namespaces and pods, and the policies over them.
#[derive(Debug, Clone, Default)]
pub struct Case {
    /// The namespaces.
    pub namespaces: Vec<Namespace>,
    /// The pods.
    pub pods: Vec<Pod>,
    /// The policies.
    pub policies: Vec<NetworkPolicy>,
}

impl Case {
    /// The policies as a YAML stream, one document each.
    pub(crate) fn policies_yaml(&self) -> String {
        self.policies
            .iter()
            .map(|policy| {
                format!(
                    "---\n{}",
                    serde_yaml::to_string(policy).expect("policies serialize")
                )
            })
            .collect()
    }

    /// The namespaces and pods as one `v1` `List`, as `kubectl get pods,namespaces -A -o yaml`
    /// prints them.
    pub(crate) fn cluster_yaml(&self) -> String {
        let namespaces = self.namespaces.iter().map(|namespace| {
            json!({
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": namespace.name, "labels": namespace.labels},
            })
        });
        let pods = self.pods.iter().map(|pod| {
            let ports: Vec<Value> = pod
                .ports
                .iter()
                .map(|port| json!({"name": port.name, "containerPort": port.port, "protocol": port.protocol.name()}))
                .collect();
            let ips: Vec<Value> = pod.ips.iter().map(|ip| json!({"ip": ip.to_string()})).collect();
            let first = pod.ips.first().map(ToString::to_string);
            json!({
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": pod.name, "namespace": pod.namespace, "labels": pod.labels},
                "spec": {"hostNetwork": pod.host_network, "containers": [{"name": "main", "ports": ports}]},
                "status": {"podIP": first, "podIPs": ips, "hostIP": if pod.host_network { first.clone() } else { None }},
            })
        });
        let list = json!({
            "apiVersion": "v1",
            "kind": "List",
            "items": namespaces.chain(pods).collect::<Vec<_>>(),
        });
        serde_yaml::to_string(&list).expect("the cluster serializes")
    }

    /// Writes `policies.yaml` and `cluster.yaml` into `dir`, creating it when missing.
    pub fn write_yaml(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("policies.yaml"), self.policies_yaml())?;
        std::fs::write(dir.join("cluster.yaml"), self.cluster_yaml())
    }
}

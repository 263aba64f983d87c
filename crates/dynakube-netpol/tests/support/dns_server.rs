//! A real DNS server for tests: hickory-server on 127.0.0.1, a random port, serving a test zone
//! given as data. Names not in the zone are NXDOMAIN.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hickory_proto::op::{Header, HeaderCounts, Metadata, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, CNAME, SOA};
use hickory_proto::rr::{LowerName, Name, RData, Record, RecordType};
use hickory_server::Server;
use hickory_server::net::runtime::{Time, TokioRuntimeProvider};
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::MessageResponseBuilder;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneType};

/// What the server answers for one name.
#[derive(Debug, Clone)]
pub enum Entry {
    /// A and AAAA records with a TTL.
    Addresses(Vec<IpAddr>, u32),
    /// A CNAME to another name, with a TTL.
    Alias(String, u32),
    /// SERVFAIL.
    ServFail,
    /// No answer at all.
    Silent,
}

/// A test zone: lower-case names without the final dot, how long each answer takes, and
/// records of other names that every answer also carries (a hostile or broken server's).
#[derive(Debug, Clone, Default)]
pub struct Zone(
    pub BTreeMap<String, Entry>,
    pub Duration,
    pub Vec<(String, IpAddr)>,
);

impl Zone {
    /// Delays every answer by `delay` (a round trip to a distant server).
    pub fn delay(mut self, delay: Duration) -> Self {
        self.1 = delay;
        self
    }

    /// Adds addresses with a TTL.
    pub fn addresses(mut self, name: &str, ips: &[&str], ttl: u32) -> Self {
        let ips = ips.iter().map(|ip| ip.parse().unwrap()).collect();
        self.0.insert(name.into(), Entry::Addresses(ips, ttl));
        self
    }

    /// Adds a CNAME.
    pub fn alias(mut self, name: &str, target: &str, ttl: u32) -> Self {
        self.0.insert(name.into(), Entry::Alias(target.into(), ttl));
        self
    }

    /// Adds a name answered with SERVFAIL.
    pub fn servfail(mut self, name: &str) -> Self {
        self.0.insert(name.into(), Entry::ServFail);
        self
    }

    /// Makes every answer also carry an address record of `owner`, a name nobody asked for.
    pub fn stray(mut self, owner: &str, ip: &str) -> Self {
        self.2.push((owner.into(), ip.parse().unwrap()));
        self
    }

    /// Adds a name the server never answers.
    pub fn silent(mut self, name: &str) -> Self {
        self.0.insert(name.into(), Entry::Silent);
        self
    }
}

/// The absolute name of `s`.
pub fn name(s: &str) -> Name {
    Name::from_ascii(format!("{s}.")).unwrap()
}

/// The answer to `query` of type `kind`: records, or a response code, or `None` for silence.
fn answer(zone: &Zone, query: &str, kind: RecordType) -> Option<Result<Vec<Record>, ResponseCode>> {
    let mut records = Vec::new();
    let mut current = query.trim_end_matches('.').to_ascii_lowercase();
    for _ in 0..16 {
        match zone.0.get(&current) {
            None => return Some(Err(ResponseCode::NXDomain)),
            Some(Entry::ServFail) => return Some(Err(ResponseCode::ServFail)),
            Some(Entry::Silent) => return None,
            Some(Entry::Alias(target, ttl)) => {
                let rdata = RData::CNAME(CNAME(name(target)));
                records.push(Record::from_rdata(name(&current), *ttl, rdata));
                current.clone_from(target);
            }
            Some(Entry::Addresses(ips, ttl)) => {
                for ip in ips {
                    let rdata = match (ip, kind) {
                        (IpAddr::V4(v4), RecordType::A) => RData::A(A(*v4)),
                        (IpAddr::V6(v6), RecordType::AAAA) => RData::AAAA(AAAA(*v6)),
                        _ => continue,
                    };
                    records.push(Record::from_rdata(name(&current), *ttl, rdata));
                }
                for (owner, ip) in &zone.2 {
                    let rdata = match ip {
                        IpAddr::V4(v4) => RData::A(A(*v4)),
                        IpAddr::V6(v6) => RData::AAAA(AAAA(*v6)),
                    };
                    records.push(Record::from_rdata(name(owner), 60, rdata));
                }
                return Some(Ok(records));
            }
        }
    }
    Some(Err(ResponseCode::ServFail))
}

struct Handler {
    zone: Zone,
    queries: Arc<AtomicUsize>,
}

#[async_trait::async_trait]
impl RequestHandler for Handler {
    async fn handle_request<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        mut response_handle: R,
    ) -> ResponseInfo {
        self.queries.fetch_add(1, Ordering::SeqCst);
        if !self.zone.1.is_zero() {
            tokio::time::sleep(self.zone.1).await;
        }
        let silent = ResponseInfo::from(Header {
            metadata: Metadata::response_from_request(&request.metadata),
            counts: HeaderCounts::default(),
        });
        let Some(query) = request.queries.queries().first() else {
            return silent;
        };
        let found = answer(&self.zone, &query.name().to_string(), query.query_type());
        let builder = MessageResponseBuilder::new(&request.queries, None);
        let mut metadata = Metadata::response_from_request(&request.metadata);
        metadata.authoritative = true;
        metadata.recursion_available = true;
        let sent = match found {
            None => return silent,
            Some(Err(code)) => {
                response_handle
                    .send_response(builder.error_msg(&request.metadata, code))
                    .await
            }
            Some(Ok(records)) => {
                let response = builder.build(metadata, records.iter(), [], [], []);
                response_handle.send_response(response).await
            }
        };
        sent.unwrap_or(silent)
    }
}

/// A running server; dropping it stops it.
pub struct DnsServer {
    /// Where it listens (UDP and TCP).
    pub address: SocketAddr,
    queries: Arc<AtomicUsize>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl DnsServer {
    /// Starts hickory-server's own authoritative in-memory zone `origin` with `records` (an
    /// SOA is added), the way a DNS server is usually set up.
    pub fn start_authoritative(origin: &str, records: Vec<Record>) -> Self {
        let origin_name = name(origin);
        let mut zone = InMemoryZoneHandler::<TokioRuntimeProvider>::empty(
            origin_name.clone(),
            ZoneType::Primary,
            AxfrPolicy::Deny,
        );
        let soa = SOA::new(
            name(&format!("ns.{origin}")),
            name(&format!("admin.{origin}")),
            1,
            3600,
            600,
            86_400,
            60,
        );
        zone.upsert_mut(
            Record::from_rdata(origin_name.clone(), 60, RData::SOA(soa)),
            1,
        );
        for record in records {
            zone.upsert_mut(record, 1);
        }
        let mut catalog = Catalog::new();
        catalog.upsert(LowerName::new(&origin_name), vec![Arc::new(zone)]);
        Self::serve(catalog, Arc::new(AtomicUsize::new(0)))
    }

    /// Starts a server for `zone` on 127.0.0.1 and a random port, in a thread of its own.
    pub fn start(zone: Zone) -> Self {
        let queries = Arc::new(AtomicUsize::new(0));
        let handler = Handler {
            zone,
            queries: queries.clone(),
        };
        Self::serve(handler, queries)
    }

    fn serve(handler: impl RequestHandler, queries: Arc<AtomicUsize>) -> Self {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let udp = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
                let address = udp.local_addr().unwrap();
                let tcp = tokio::net::TcpListener::bind(address).await;
                let mut server = Server::new(handler);
                server.register_socket(udp);
                if let Ok(tcp) = tcp {
                    server.register_listener(tcp, Duration::from_secs(5), 64);
                }
                ready_tx.send(address).unwrap();
                let _ = stop_rx.await;
                let _ = server.shutdown_gracefully().await;
            });
        });
        let address = ready_rx.recv().unwrap();
        DnsServer {
            address,
            queries,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    /// How many queries it received.
    pub fn queries(&self) -> usize {
        self.queries.load(Ordering::SeqCst)
    }

    /// Stops the server and waits until its socket is closed.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

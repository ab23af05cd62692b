//! A small min-cost flow (successive shortest paths, Bellman-Ford queue), for the networks of
//! a handful of nodes that price one set of sources. Costs may be any non-negative reals;
//! capacities are whole units, so optimal flows are whole too.

/// Improvements smaller than this are round-off, not shorter paths.
const COST_EPSILON: f64 = 1e-12;

#[derive(Debug, Clone)]
struct Edge {
    to: usize,
    residual: u32,
    cost: f64,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct FlowNetwork {
    edges: Vec<Edge>,
    outgoing: Vec<Vec<usize>>,
}

/// Identifies an edge added to a network, to read its flow after solving.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EdgeId(usize);

impl FlowNetwork {
    pub(crate) fn add_node(&mut self) -> usize {
        self.outgoing.push(Vec::new());
        self.outgoing.len() - 1
    }

    pub(crate) fn add_edge(&mut self, from: usize, to: usize, capacity: u32, cost: f64) -> EdgeId {
        let id = self.edges.len();
        self.edges.push(Edge {
            to,
            residual: capacity,
            cost,
        });
        self.edges.push(Edge {
            to: from,
            residual: 0,
            cost: -cost,
        });
        self.outgoing[from].push(id);
        self.outgoing[to].push(id + 1);
        EdgeId(id)
    }

    /// Units flowing on `edge` (the residual of its reverse).
    pub(crate) fn flow(&self, edge: EdgeId) -> u32 {
        self.edges[edge.0 + 1].residual
    }

    /// Sends up to `amount` units from `source` to `sink` at least cost; returns the units sent
    /// and their cost.
    pub(crate) fn min_cost_flow(&mut self, source: usize, sink: usize, amount: u32) -> (u32, f64) {
        let nodes = self.outgoing.len();
        let (mut sent, mut cost) = (0u32, 0.0);
        let mut distance = vec![f64::INFINITY; nodes];
        let mut via_edge = vec![usize::MAX; nodes];
        let mut queued = vec![false; nodes];
        let mut queue = std::collections::VecDeque::with_capacity(nodes);
        while sent < amount {
            distance.fill(f64::INFINITY);
            via_edge.fill(usize::MAX);
            distance[source] = 0.0;
            queue.push_back(source);
            queued[source] = true;
            while let Some(node) = queue.pop_front() {
                queued[node] = false;
                for &e in &self.outgoing[node] {
                    let edge = &self.edges[e];
                    let through = distance[node] + edge.cost;
                    if edge.residual > 0 && through < distance[edge.to] - COST_EPSILON {
                        distance[edge.to] = through;
                        via_edge[edge.to] = e;
                        if !queued[edge.to] {
                            queued[edge.to] = true;
                            queue.push_back(edge.to);
                        }
                    }
                }
            }
            if distance[sink].is_infinite() {
                break;
            }
            let mut bottleneck = amount - sent;
            let mut node = sink;
            while node != source {
                let e = via_edge[node];
                bottleneck = bottleneck.min(self.edges[e].residual);
                node = self.edges[e ^ 1].to;
            }
            let mut node = sink;
            while node != source {
                let e = via_edge[node];
                self.edges[e].residual -= bottleneck;
                self.edges[e ^ 1].residual += bottleneck;
                node = self.edges[e ^ 1].to;
            }
            sent += bottleneck;
            cost += f64::from(bottleneck) * distance[sink];
        }
        (sent, cost)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cheaper_path_fills_first_then_the_dearer_one() {
        let mut network = FlowNetwork::default();
        let (source, middle, sink) = (network.add_node(), network.add_node(), network.add_node());
        let cheap = network.add_edge(source, middle, 2, 1.0);
        network.add_edge(middle, sink, 5, 0.0);
        let dear = network.add_edge(source, sink, 5, 3.0);
        assert_eq!(network.min_cost_flow(source, sink, 4), (4, 2.0 + 6.0));
        assert_eq!((network.flow(cheap), network.flow(dear)), (2, 2));
    }

    #[test]
    fn flow_stops_at_the_cut() {
        let mut network = FlowNetwork::default();
        let (source, sink) = (network.add_node(), network.add_node());
        network.add_edge(source, sink, 3, 1.5);
        assert_eq!(network.min_cost_flow(source, sink, 10), (3, 4.5));
    }
}

// Cluster time for a server run as a one-member replica set (--replica-set),
// as MongoDB's drivers and causally consistent sessions use it.
//
// Every reply of a replica-set member carries `$clusterTime` (the member's
// cluster time, with the dummy signature a server without authentication
// gives) and `operationTime` (for a write, the time given to it once it had
// committed; for anything else the time of the last such write: MongoDB's
// lastApplied). A standalone server sends neither and refuses
// `afterClusterTime`, as mongod does.
//
// Invariant: a write's time is taken after its changes are visible to every
// later read, so a read that starts once a client holds time T (and asks
// for afterClusterTime T) sees every write whose time is at most T; the
// read never has to wait. Times only grow: a client's `$clusterTime` raises
// the cluster time (gossip), and the next write's time is above it.
//
// The clock is the engine's (docket/cluster_clock.h): with an oplog, a
// write's time is that of its entries. Not yet: snapshot reads at a time
// (atClusterTime), afterOpTime.
#pragma once

#include <bson/bson.h>

#include <cstdint>
#include <string_view>

#include "docket/cluster_clock.h"
#include "docket/document.h"
#include "docket/status.h"

namespace docket::commands {

using docket::ClusterClock;
using docket::LogicalTime;

// The command's `$clusterTime`, if it has one, checked as mongod checks it:
// 10065 when it is not a document, NoSuchKey (4) without clusterTime or
// signature, TypeMismatch (14) for a field of the wrong type,
// UnsupportedFormat (12) for a hash that is not 20 bytes of subtype 0.
// Returns a null time when the command has none.
Result<LogicalTime> GossipedClusterTime(const Document& body);

// The command's readConcern against the server, after CheckCommandFields's
// checks of the fields themselves, in mongod's order: on a standalone,
// level linearizable NotAReplicaSet (123) and afterClusterTime
// IllegalOperation (20) ("without replication enabled"); on a replica set,
// an afterClusterTime above the cluster time InvalidOptions (72).
Status CheckReadConcernAgainstServer(const Document& body, bool replica_set, const ClusterClock& clock);

// Whether the command changes data, so that its reply's operationTime is a
// new write time: the write commands, and aggregate with $out or $merge.
// Statements inside a transaction are not: their changes show at commit.
bool IsWriteCommand(std::string_view name, const Document& body);
// Whether an aggregate command's pipeline writes: it has $out or $merge.
bool PipelineWrites(const Document& aggregate);

// `reply` with `$clusterTime` and `operationTime` appended.
Document WithClusterTimes(const Document& reply, LogicalTime operation_time, LogicalTime cluster_time);

}  // namespace docket::commands

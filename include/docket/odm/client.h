// The ODM's entry points: a Client from a URI, Databases from it, typed
// Collections and Sequences from those.
//
//   auto client = docket::odm::Client::Open("docket:memory");   // or docket:/var/lib/app,
//   auto db = client.Database("shop");                          // or mongodb://host/?replicaSet=rs
//   auto orders = db.Collection<Order>("orders");
//
// Clients, Databases and Collections are small values sharing one backend
// (an engine or a libmongoc client pool); copy them freely and use them from
// any number of threads.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "docket/odm/collection.h"
#include "docket/odm/sequence.h"

namespace docket::odm {

class Database {
 public:
  Database(std::shared_ptr<Backend> backend, std::string name) : backend_(std::move(backend)), name_(std::move(name)) {}

  const std::string& name() const { return name_; }

  template <Model T>
  odm::Collection<T> Collection(std::string name) const {
    return odm::Collection<T>(backend_, Namespace{name_, std::move(name)});
  }
  odm::Sequence Sequence(std::string name, SequenceOptions options = {}) const {
    return odm::Sequence(backend_, name_, std::move(name), std::move(options));
  }

  // Runs `body` in a transaction (retried on transient conflicts, up to
  // max_attempts times); collections join it with In(session).
  void WithTransaction(const std::function<void(Session&)>& body, int max_attempts = 100,
                       WriteConcernOptions wc = {}) const {
    backend_->WithTransaction(body, wc, max_attempts);
  }
  bool SupportsTransactions() const { return backend_->SupportsTransactions(); }
  void Drop() const { backend_->DropDatabase(name_); }
  Backend& backend() const { return *backend_; }

 private:
  std::shared_ptr<Backend> backend_;
  std::string name_;
};

class Client {
 public:
  // docket:memory (a fresh in-memory engine), docket:/path (an engine on
  // disk; one Client per directory per process), or mongodb://... (any
  // MongoDB deployment, docket serve included). Throws docket::Error.
  static Client Open(const std::string& uri) { return Client(OpenBackend(uri)); }
  explicit Client(std::shared_ptr<Backend> backend) : backend_(std::move(backend)) {}

  odm::Database Database(std::string name) const { return odm::Database(backend_, std::move(name)); }
  Backend& backend() const { return *backend_; }

 private:
  std::shared_ptr<Backend> backend_;
};

}  // namespace docket::odm

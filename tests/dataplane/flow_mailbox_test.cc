// The flow mailbox's protocol with a real second thread as the worker: one query at a
// time, answered only by the worker, a new post refused while one is pending, and no
// torn answers under many round trips (run under TSan by the sanitize build).
#include "dataplane/flow_mailbox.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace sluice::dataplane {
namespace {

FlowQuery QueryFor(uint16_t port) {
  FlowQuery q;
  q.key4.src_port = port;
  q.key4.ip_proto = 17;
  return q;
}

// The "worker's" answer: derived from the query, so a mixed-up answer shows.
FlowAnswer AnswerFor(const FlowQuery& q) {
  return FlowAnswer{.found = q.key4.src_port % 2 == 0,
                    .backend = q.key4.src_port * 3u,
                    .last_seen_ms = q.key4.src_port * 5u,
                    .now_ms = q.key4.src_port * 7u,
                    .hash = q.key4.src_port * 11u};
}

TEST(FlowMailboxTest, AnsweredOnlyWhenTheWorkerServes) {
  FlowMailbox mailbox;
  FlowAnswer answer;
  int served = 0;
  mailbox.Serve([&](const FlowQuery& q) {
    ++served;
    return AnswerFor(q);
  });
  EXPECT_EQ(served, 0) << "nothing was asked";
  ASSERT_TRUE(mailbox.Post(QueryFor(42)));
  EXPECT_FALSE(mailbox.TryTake(&answer));
  EXPECT_FALSE(mailbox.Post(QueryFor(43))) << "one query at a time";
  mailbox.Serve([&](const FlowQuery& q) {
    ++served;
    return AnswerFor(q);
  });
  ASSERT_TRUE(mailbox.TryTake(&answer));
  EXPECT_EQ(served, 1);
  EXPECT_EQ(answer.backend, 42u * 3);
  EXPECT_TRUE(answer.found);
  mailbox.Serve([&](const FlowQuery& q) {
    ++served;
    return AnswerFor(q);
  });
  EXPECT_EQ(served, 1) << "an answered query is not served again";
  EXPECT_TRUE(mailbox.Post(QueryFor(43)));
}

TEST(FlowMailboxTest, ManyRoundTripsWithAWorkerThread) {
  FlowMailbox mailbox;
  std::atomic<bool> stop{false};
  std::thread worker([&] {
    while (!stop.load(std::memory_order_relaxed)) mailbox.Serve(AnswerFor);
  });
  for (uint16_t port = 1; port <= 20000; ++port) {
    ASSERT_TRUE(mailbox.Post(QueryFor(port)));
    FlowAnswer answer;
    while (!mailbox.TryTake(&answer)) std::this_thread::yield();
    const FlowAnswer want = AnswerFor(QueryFor(port));
    ASSERT_EQ(answer.backend, want.backend) << port;
    ASSERT_EQ(answer.last_seen_ms, want.last_seen_ms) << port;
    ASSERT_EQ(answer.now_ms, want.now_ms) << port;
    ASSERT_EQ(answer.hash, want.hash) << port;
    ASSERT_EQ(answer.found, want.found) << port;
  }
  stop = true;
  worker.join();
}

}  // namespace
}  // namespace sluice::dataplane

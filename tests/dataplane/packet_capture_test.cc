// dataplane/packet_capture: which EAL arguments rule dpdk-dumpcap out, rte_pdump
// init/uninit, the file prefix. The capture itself runs in tests/e2e/capture_test.sh.
#include "dataplane/packet_capture.h"

#include <gtest/gtest.h>

#include "dataplane/port.h"
#include "tests/dataplane/test_eal.h"

namespace sluice::dataplane {
namespace {

TEST(CaptureBlockingOption, SharedConfigAllowsCapture) {
  EXPECT_EQ(CaptureBlockingOption({"sluice", "-l", "0,1", "--vdev", "net_af_packet0,iface=x"}), "");
  EXPECT_EQ(CaptureBlockingOption({"sluice", "--file-prefix=lb", "--huge-dir=/mnt/huge"}), "");
  // Options that only start like one of the three do not count.
  EXPECT_EQ(CaptureBlockingOption({"sluice", "--in-memoryx", "--no-hugepages-please"}), "");
}

// In the order --in-memory, --no-shconf, --no-huge, wherever they are in the arguments.
TEST(CaptureBlockingOption, NamesTheBlockingOption) {
  EXPECT_EQ(CaptureBlockingOption({"sluice", "--file-prefix=x", "--in-memory"}), "--in-memory");
  EXPECT_EQ(CaptureBlockingOption({"sluice", "--no-huge", "-m", "512", "--no-shconf"}),
            "--no-shconf");
  EXPECT_EQ(CaptureBlockingOption({"sluice", "--no-huge", "-m", "512"}), "--no-huge");
  EXPECT_EQ(CaptureBlockingOption({"sluice", "--in-memory=1"}), "--in-memory");
}

// rte_pdump_init succeeds even under --no-shconf (it only registers a request handler
// no secondary could ever reach): why the daemon decides from the EAL arguments.
TEST(EnablePacketCapture, SucceedsEvenWithoutSharedConfig) {
  ASSERT_GE(InitTestEal("packet-capture-test"), 0);  // --no-shconf --no-huge
  EXPECT_TRUE(EnablePacketCapture().ok());
  DisablePacketCapture();
  DisablePacketCapture();                   // a second time: a no-op
  EXPECT_TRUE(EnablePacketCapture().ok());  // and again after an uninit
  DisablePacketCapture();
  EXPECT_EQ(EalFilePrefix().rfind("sluice-packet-capture-test-", 0), 0u) << EalFilePrefix();
  CleanupEal();  // also removes the runtime directory
}

}  // namespace
}  // namespace sluice::dataplane

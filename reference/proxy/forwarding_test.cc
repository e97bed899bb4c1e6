// Which forwarding fields are believed, and from whom (proxy/forwarding.h).
#include "proxy/forwarding.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <thread>
#include <vector>

namespace dtr::proxy {
namespace {

TrustedProxies Trust(const std::string& list) {
  auto t = TrustedProxies::Parse(list);
  EXPECT_TRUE(t.ok()) << list << ": " << t.status().message();
  return t.ok() ? *t : TrustedProxies();
}

http::Request From(const std::string& peer,
                   std::vector<std::pair<std::string, std::string>> fields = {}) {
  http::Request req;
  req.remote_addr = peer;
  for (auto& [k, v] : fields) req.headers.Add(k, v);
  return req;
}

TEST(TrustedProxiesTest, AddressesAndBlocks) {
  auto t = Trust("127.0.0.0/8, ::1,192.0.2.7,10.1.0.0/17,fd00::/8");
  EXPECT_TRUE(t.Contains("127.0.0.1"));
  EXPECT_TRUE(t.Contains("127.255.3.4"));
  EXPECT_TRUE(t.Contains("::1"));
  EXPECT_TRUE(t.Contains("::ffff:127.0.0.1")) << "IPv4-mapped IPv6 is the IPv4 address";
  EXPECT_TRUE(t.Contains("192.0.2.7"));
  EXPECT_FALSE(t.Contains("192.0.2.8"));
  EXPECT_TRUE(t.Contains("10.1.127.255"));
  EXPECT_FALSE(t.Contains("10.1.128.0")) << "/17 ends at 10.1.127.255";
  EXPECT_TRUE(t.Contains("fd12:3456::1"));
  EXPECT_FALSE(t.Contains("fe80::1"));
  EXPECT_FALSE(t.Contains("not-an-address"));
  EXPECT_FALSE(t.Contains(""));
  EXPECT_TRUE(Trust("0.0.0.0/0").Contains("203.0.113.9"));
  EXPECT_FALSE(Trust("").Contains("127.0.0.1")) << "an empty list trusts no one";
}

TEST(TrustedProxiesTest, MalformedListsAreRefusedWithTheItem) {
  for (const char* bad :
       {"10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "example.com", "10.0.0.1,nonsense"}) {
    auto t = TrustedProxies::Parse(bad);
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_NE(t.status().message().find("trusted proxy"), std::string::npos) << bad;
  }
}

TEST(NormalizeForwardingTest, AStrangerCannotChooseItsAddressOrHost) {
  auto req = From("203.0.113.5", {{"X-Forwarded-For", "10.9.9.9"},
                                  {"X-Forwarded-Proto", "https"},
                                  {"X-Forwarded-Host", "evil.example"}});
  NormalizeForwarding(req, Trust(kDefaultTrustedProxies), "");
  EXPECT_EQ(req.client_addr, "203.0.113.5");
  EXPECT_FALSE(req.headers.Has("X-Forwarded-For"));
  EXPECT_FALSE(req.headers.Has("X-Forwarded-Proto"));
  EXPECT_FALSE(req.headers.Has("X-Forwarded-Host"));
  req.headers.Add("Host", "registry.example");
  EXPECT_EQ(http::ExternalBaseUrl(req), "http://registry.example");
}

TEST(NormalizeForwardingTest, ATrustedProxyNamesTheClient) {
  // nginx on the same host: the client is the last address it appended.
  auto req = From("127.0.0.1", {{"X-Forwarded-For", "198.51.100.2"},
                                {"X-Forwarded-Proto", "https"},
                                {"X-Forwarded-Host", "dtr.example"}});
  NormalizeForwarding(req, Trust(kDefaultTrustedProxies), "");
  EXPECT_EQ(req.client_addr, "198.51.100.2");
  EXPECT_EQ(http::ExternalBaseUrl(req), "https://dtr.example");

  // What the client wrote itself sits further left, behind an untrusted hop: ignored.
  req = From("127.0.0.1",
             {{"X-Forwarded-For", "1.2.3.4, 198.51.100.2"}, {"X-Forwarded-For", "10.0.0.3"}});
  NormalizeForwarding(req, Trust("127.0.0.1,10.0.0.0/8"), "");
  EXPECT_EQ(req.client_addr, "198.51.100.2") << "10.0.0.3 is a trusted load balancer";

  // Garbage stops the walk at the last address that made sense.
  req = From("127.0.0.1", {{"X-Forwarded-For", "1.2.3.4, <script>"}});
  NormalizeForwarding(req, Trust(kDefaultTrustedProxies), "");
  EXPECT_EQ(req.client_addr, "127.0.0.1");
  EXPECT_EQ(req.ClientAddress(), "127.0.0.1");
}

TEST(NormalizeForwardingTest, OnlyTheFrontSecretCarriesAClientCertificateUser) {
  const std::string secret(64, 'a');
  // A local process talking to a component directly cannot claim a certificate's user.
  auto req = From("127.0.0.1", {{kClientCertHeader, "admin"}});
  NormalizeForwarding(req, Trust(kDefaultTrustedProxies), secret);
  EXPECT_EQ(req.client_cert_subject, "");
  EXPECT_FALSE(req.headers.Has(kClientCertHeader));

  req =
      From("127.0.0.1", {{kClientCertHeader, "admin"}, {kFrontSecretHeader, std::string(64, 'b')}});
  NormalizeForwarding(req, Trust(kDefaultTrustedProxies), secret);
  EXPECT_EQ(req.client_cert_subject, "");
  EXPECT_FALSE(req.headers.Has(kFrontSecretHeader)) << "the secret is never passed on";

  // The front: it forwards the user of the certificate it verified, with the secret; the
  // secret also makes its forwarding fields believed from an address not in the list.
  http::Request at_front = From("198.51.100.7", {{kClientCertHeader, "forged"}});
  at_front.client_cert_subject = "alice";
  NormalizeForwarding(at_front, Trust(kDefaultTrustedProxies), secret);
  EXPECT_EQ(at_front.client_cert_subject, "alice") << "the TLS layer's answer, not the header";
  AddFrontFields(at_front, secret);
  req = From("192.0.2.50");  // the front, on another host
  req.headers = at_front.headers;
  req.headers.Add("X-Forwarded-For", "198.51.100.7");
  NormalizeForwarding(req, Trust(kDefaultTrustedProxies), secret);
  EXPECT_EQ(req.client_cert_subject, "alice");
  EXPECT_EQ(req.client_addr, "198.51.100.7");
  EXPECT_FALSE(req.headers.Has(kFrontSecretHeader));
  EXPECT_FALSE(req.headers.Has(kClientCertHeader));

  // Without a secret (none configured) nothing is ever taken from the header.
  req = From("127.0.0.1", {{kClientCertHeader, "admin"}, {kFrontSecretHeader, ""}});
  NormalizeForwarding(req, Trust(kDefaultTrustedProxies), "");
  EXPECT_EQ(req.client_cert_subject, "");
}

TEST(FrontSecretTest, CreatedOnceWithMode0600AndSharedByConcurrentStarts) {
  auto dir =
      std::filesystem::temp_directory_path() / ("dtr-front-secret-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::vector<std::string> got(8);
  std::vector<std::thread> starts;
  for (size_t i = 0; i < got.size(); ++i) {
    starts.emplace_back([&, i] {
      auto s = LoadOrCreateFrontSecret(dir.string());
      got[i] = s.ok() ? *s : "error: " + s.status().message();
    });
  }
  for (auto& t : starts) t.join();
  for (const auto& g : got) EXPECT_EQ(g, got[0]);
  EXPECT_EQ(got[0].size(), 64u) << got[0];
  struct stat st {};
  ASSERT_EQ(::stat((dir / "auth" / "front-secret").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto again = LoadOrCreateFrontSecret(dir.string());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, got[0]);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dtr::proxy

// Policy snapshots: what the watcher compiles and every child maps, checked
// before use.
#include "policy/snapshot.h"
#include "policy/digest.h"

#include <gtest/gtest.h>

#include "policy/error.h"
#include "tests/support/error_of.h"

namespace cscguard {
namespace {

const std::vector<std::string> kIssuers{"kitty", "acme"};

SerialTable table_of(std::uint16_t issuer, const std::vector<std::string>& serials) {
    SerialTableBuilder b;
    for (const auto& s : serials) {
        SerialOctets o;
        EXPECT_TRUE(SerialOctets::parse(s, o)) << s;
        b.add(issuer, o);
    }
    return b.build();
}

Snapshot sample() {
    Snapshot s;
    s.generation = 42;
    s.configuration = "3f2a-77";
    FileStamp stamp;
    stamp.exists = true;
    stamp.device = 2049;
    stamp.inode = 1234567;
    stamp.size = 9;
    stamp.mtime_ns = 1763900000123456789LL;
    stamp.ctime_ns = -5;  // any value survives
    CompiledFile list;
    list.path = "/etc/apache2/staff.list";
    list.stamp = stamp;
    list.digest = sha256_of("kitty:01\n");
    list.allowlist = table_of(0, {"01", "D1D11C749D9C2D16"});
    s.files.push_back(list);
    CompiledFile crls;
    crls.kind = CompiledFile::Kind::Crl;
    crls.path = "/etc/apache2/crls.pem";
    crls.stamp = stamp;
    crls.digest = sha256_of("two CRLs");
    auto acme = std::make_shared<RevocationList>();
    acme->issuer = "acme";
    acme->issuer_index = 1;
    acme->source = crls.path;
    acme->number = "1A";
    acme->digest = std::string(64, 'e');
    acme->this_update = 1763900000;
    acme->next_update = 1763990000;
    acme->revoked = table_of(1, {"0A1B", "-05"});
    crls.crls.push_back(acme);
    auto kitty = std::make_shared<RevocationList>();
    kitty->issuer = "kitty";
    kitty->source = crls.path;
    kitty->this_update = 1;
    kitty->next_update = 2;  // no crlNumber, no entries
    crls.crls.push_back(kitty);
    s.files.push_back(crls);
    return s;
}

std::string error_of(std::string_view data, const std::vector<std::string>& issuers = kIssuers) {
    return testing::error_of([&] { open_snapshot(data, nullptr, "policy.snapshot", issuers); });
}

TEST(Snapshot, RoundTrip) {
    const std::string data = encode_snapshot(sample());
    const Snapshot back = open_snapshot(data, nullptr, "policy.snapshot", kIssuers);
    EXPECT_EQ(back.generation, 42u);
    EXPECT_EQ(back.configuration, "3f2a-77");
    EXPECT_EQ(peek_generation(data), 42u);
    ASSERT_EQ(back.files.size(), 2u);
    const CompiledFile& list = back.files[0];
    EXPECT_EQ(list.path, "/etc/apache2/staff.list");
    EXPECT_EQ(list.stamp, sample().files[0].stamp);
    EXPECT_EQ(list.digest, sha256_of("kitty:01\n"));
    EXPECT_EQ(list.kind, CompiledFile::Kind::Allowlist);
    EXPECT_EQ(list.allowlist.size(), 2u);
    EXPECT_TRUE(list.allowlist.contains(0, Serial::parse("d1:d1:1c:74:9d:9c:2d:16")));
    EXPECT_TRUE(list.allowlist.contains(0, Serial::parse("1")));
    EXPECT_FALSE(list.allowlist.contains(1, Serial::parse("1"))) << "an entry is bound to its issuer";
    EXPECT_FALSE(list.allowlist.contains(0, Serial::parse("2")));

    const CompiledFile* crls = back.find("/etc/apache2/crls.pem");
    ASSERT_NE(crls, nullptr);
    EXPECT_EQ(crls->kind, CompiledFile::Kind::Crl);
    ASSERT_EQ(crls->crls.size(), 2u);
    const RevocationList& acme = *crls->crls[0];
    EXPECT_EQ(acme.issuer, "acme");
    EXPECT_EQ(acme.issuer_index, 1);
    EXPECT_EQ(acme.source, "/etc/apache2/crls.pem");
    EXPECT_EQ(acme.number, "1A");
    EXPECT_EQ(acme.digest, std::string(64, 'e'));
    EXPECT_EQ(acme.this_update, 1763900000);
    EXPECT_EQ(acme.next_update, 1763990000);
    EXPECT_TRUE(acme.revokes(Serial::parse("A1B")));
    EXPECT_TRUE(acme.revokes(Serial::parse("-5")));
    EXPECT_FALSE(acme.revokes(Serial::parse("5")));
    EXPECT_EQ(crls->crls[1]->issuer, "kitty");
    EXPECT_EQ(crls->crls[1]->number, "");
    EXPECT_FALSE(crls->crls[1]->revokes(Serial::parse("1")));
    EXPECT_EQ(back.find("/elsewhere"), nullptr);
    EXPECT_EQ(open_snapshot(encode_snapshot(Snapshot{}), nullptr, "empty", {}).files.size(), 0u);
}

TEST(Snapshot, TheTablesAreSearchedWhereTheBytesAre) {
    auto data = std::make_shared<const std::string>(encode_snapshot(sample()));
    const Snapshot back = open_snapshot(*data, data, "policy.snapshot", kIssuers);
    const std::string_view table = back.files[0].allowlist.bytes();
    EXPECT_GE(table.data(), data->data());
    EXPECT_LE(table.data() + table.size(), data->data() + data->size()) << "a copy, not a view";
}

TEST(Snapshot, EveryTruncationIsRefused) {
    const std::string data = encode_snapshot(sample());
    for (std::size_t size = 0; size < data.size(); ++size) {
        EXPECT_NE(error_of(data.substr(0, size)), "(no error)") << "truncated to " << size;
    }
}

TEST(Snapshot, EveryFlippedByteIsRefused) {
    const std::string data = encode_snapshot(sample());
    for (std::size_t i = 0; i < data.size(); ++i) {
        std::string damaged = data;
        damaged[i] = static_cast<char>(damaged[i] ^ 0x40);
        EXPECT_NE(error_of(damaged), "(no error)") << "byte " << i;
    }
}

TEST(Snapshot, ForeignFilesAndOtherFormatsAreRefusedWithTheReason) {
    EXPECT_EQ(error_of("kitty:01\n"), "policy.snapshot: not a policy snapshot: no CSGSNAP1 header");
    EXPECT_EQ(error_of(std::string(100, '\0')), "policy.snapshot: not a policy snapshot: no CSGSNAP1 header");
    const std::string data = encode_snapshot(sample());
    EXPECT_EQ(error_of(data + "x"),
              "policy.snapshot: not a policy snapshot: its checksum does not match (damaged or truncated)");
    EXPECT_EQ(peek_generation("kitty:01\n and more than twenty-four bytes"), std::nullopt);
    std::string newer = data;
    newer[8] = 3;  // the format, before the checksum is even looked at
    EXPECT_EQ(error_of(newer), "policy.snapshot: not a policy snapshot: format 3, this module reads formats 1 and 2");
}

// Format 1 (up to the release before XXH3) differs only in its checksum, a
// SHA-256: the first restart after an upgrade still reads the snapshot in
// force before it.
TEST(Snapshot, AFormatOneSnapshotIsStillRead) {
    const std::string data = encode_snapshot(sample());
    std::string body = data.substr(0, data.size() - 16);  // without its XXH3-128
    body[8] = 1;
    const std::uint64_t size = body.size() + 32;
    for (int i = 0; i < 8; ++i) body[24 + i] = static_cast<char>((size >> (8 * i)) & 0xff);  // the recorded size
    const std::string old = body + sha256_of(body);
    EXPECT_EQ(error_of(old), "(no error)");
    std::string damaged = old;
    damaged[40] = static_cast<char>(damaged[40] ^ 1);
    EXPECT_EQ(error_of(damaged),
              "policy.snapshot: not a policy snapshot: its checksum does not match (damaged or truncated)");
}

// Checked before anything is searched: a table whose bucket index points
// past its keys would read beyond the mapping. The checksum is made right
// here, as an attacker who can write the file could.
TEST(Snapshot, ATableThatPointsBeyondItsKeysIsRefusedEvenWithAGoodChecksum) {
    Snapshot s = sample();
    std::string table(s.files[0].allowlist.bytes());
    table[8 + 4] = 9;  // bucket 1 starts at key 9 of 2
    auto bytes = std::make_shared<const std::string>(table);
    EXPECT_THROW(SerialTable::open(*bytes, bytes), PolicyError);
}

TEST(Snapshot, AnIssuerIndexThatIsNotTheDeclaredIssuersIsRefused) {
    const std::string data = encode_snapshot(sample());
    EXPECT_EQ(error_of(data, {"acme", "kitty"}),
              "policy.snapshot: not a policy snapshot: /etc/apache2/crls.pem: a CRL of issuer 'acme', which is not "
              "declared at its index");
    EXPECT_NE(error_of(data, {"kitty"}), "(no error)");
}

}  // namespace
}  // namespace cscguard

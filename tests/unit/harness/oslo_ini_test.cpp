// The oslo.config file reader against upstream's own vectors
// (docs/upstream/oslo-config-ini.md §5, rows 1-34: each expected result was
// produced by running oslo.config; the row number is in each case).
#include <gtest/gtest.h>

#include "harness/run/oslo_ini.h"

namespace lmh::harness {
namespace {

using Sections = std::map<std::string, std::map<std::string, std::vector<std::string>>>;

// What cfg.ConfigParser keeps: raw section name -> key -> every value.
Sections parsed(const std::string& text) {
  auto f = parse_oslo_ini(text, "F");
  EXPECT_TRUE(f.ok()) << f.status().to_string();
  Sections out;
  if (!f.ok()) return out;
  for (const auto& s : f->sections) {
    auto& keys = out[s.name];
    for (const auto& [k, vs] : s.keys)
      for (const auto& v : vs) keys[k].push_back(v.text);
  }
  return out;
}

std::string error_of(const std::string& text) {
  auto f = parse_oslo_ini(text, "F");
  return f.ok() ? "OK" : f.status().message();
}

TEST(OsloIni, AssignmentsSeparatorsAndContinuations) {
  EXPECT_EQ(parsed("[s]\nfoo = bar\n"), (Sections{{"s", {{"foo", {"bar"}}}}}));                       // 1
  EXPECT_EQ(parsed("[s]\nfoo: bar\n"), (Sections{{"s", {{"foo", {"bar"}}}}}));                        // 2
  EXPECT_EQ(parsed("[s]\nfoo: bar=baz\nurl = http://x:80/a\n"),
            (Sections{{"s", {{"foo", {"bar=baz"}}, {"url", {"http://x:80/a"}}}}}));                    // 3
  EXPECT_EQ(parsed("[s]\nfoo = bar0\n  bar1\n"), (Sections{{"s", {{"foo", {"bar0\nbar1"}}}}}));       // 4
  EXPECT_EQ(parsed("[s]\nfoo = a\n  b\n\tc  \n"), (Sections{{"s", {{"foo", {"a\nb\nc"}}}}}));         // 5
  EXPECT_EQ(parsed("[s]\nfoo = a\n  # not a comment\n"),
            (Sections{{"s", {{"foo", {"a\n# not a comment"}}}}}));                                   // 8
  EXPECT_EQ(parsed("# foobar\n; x\n[s]\n"), (Sections{{"s", {}}}));                                   // 9
  EXPECT_EQ(parsed("[s]\nfoo = a # not a comment ; neither\n"),
            (Sections{{"s", {{"foo", {"a # not a comment ; neither"}}}}}));                          // 10
  EXPECT_EQ(parsed("[s]\nfoo = \n"), (Sections{{"s", {{"foo", {""}}}}}));                             // 11
  EXPECT_EQ(parsed("[s]\nfoo = ' bar '\n"), (Sections{{"s", {{"foo", {" bar "}}}}}));                 // 12
  EXPECT_EQ(parsed("[s]\nfoo = \" bar \"\n"), (Sections{{"s", {{"foo", {" bar "}}}}}));               // 13
  EXPECT_EQ(parsed("[s]\na = 'x\"\nb = \"\nc = \"p\" \"q\"\n"),
            (Sections{{"s", {{"a", {"'x\""}}, {"b", {""}}, {"c", {"p\" \"q"}}}}}));                   // 14
  EXPECT_EQ(parsed("[ DEFAULT ]\nfoo=1\n"), (Sections{{" DEFAULT ", {{"foo", {"1"}}}}}));             // 22
  EXPECT_EQ(parsed("[DEFAULT]\nfoo=1\n[DEFAULT]\nfoo=2\nbar=3\n"),
            (Sections{{"DEFAULT", {{"foo", {"1", "2"}}, {"bar", {"3"}}}}}));                          // 25
  EXPECT_EQ(parsed("[DEFAULT]\r\nfoo = bar\r\n"), (Sections{{"DEFAULT", {{"foo", {"bar"}}}}}));       // 26
  EXPECT_EQ(parsed("[s]\nfoo==x\nfoo bar = baz\n"), (Sections{{"s", {{"foo", {"=x"}}, {"foo bar", {"baz"}}}}}));
}

TEST(OsloIni, ErrorsNameFileLineAndOsloMessage) {
  EXPECT_EQ(error_of("[s]\nfoo = bar0\n\n  bar1\n"), "F:4: Unexpected continuation line");            // 6
  EXPECT_EQ(error_of("[s]\nfoo = a\n# c\n  b\n"), "F:4: Unexpected continuation line");               // 7
  EXPECT_EQ(error_of("[s]\nfoo - bar\n"), "F:2: No ':' or '=' found in assignment");                  // 15
  EXPECT_EQ(error_of("[s]\n: bar\n"), "F:2: Key cannot be empty");                                    // 16
  EXPECT_EQ(error_of("   baz\n"), "F:1: Unexpected continuation line");                               // 17
  EXPECT_EQ(error_of("[s]\n  # indented comment\n"), "F:2: Unexpected continuation line");            // 18
  EXPECT_EQ(error_of("[section\n"), "F:1: Invalid section (must end with ])");                        // 19
  EXPECT_EQ(error_of("[DEFAULT] # c\n"), "F:1: Invalid section (must end with ])");                   // 20
  EXPECT_EQ(error_of("[]\n"), "F:1: Empty section name");                                             // 21
  // 23/24: oslo.config reports the line that flushed the key; lmh the key's own.
  EXPECT_EQ(error_of("foo = bar"), "F:1: Section must be started before assignment");
  EXPECT_EQ(error_of("# x\nfoo = bar\n\n"), "F:2: Section must be started before assignment");
  EXPECT_EQ(error_of("\xef\xbb\xbf[DEFAULT]\nfoo=1\n"), "F:1: No ':' or '=' found in assignment");    // 27
  EXPECT_EQ(parse_oslo_ini("[s]\n[x\n", "F").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(error_of(""), "OK");
}

TEST(OsloIni, GroupLookupAsOsloNormalisesIt) {
  auto f = parse_oslo_ini("[default]\nfoo = bar\n[ovs]\nfoo = a\n[Ovs]\nfoo = b\n[DEFAULT]\nFOO = x\nbar = 1\nbar = 2\n",
                          "F");
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  EXPECT_FALSE(f->last("DEFAULT", "foo"));                 // 29: [default] is not DEFAULT; 31: keys are case-sensitive
  ASSERT_TRUE(f->last("OVS", "foo"));                      // 30: [ovs] and [Ovs] merge, last wins
  EXPECT_EQ(f->last("OVS", "foo")->text, "b");
  EXPECT_EQ(f->last("OVS", "foo")->line, 6);
  EXPECT_EQ(f->last("DEFAULT", "bar")->text, "2");         // 34
  ASSERT_EQ(f->values("DEFAULT", "bar").size(), 2u);       // a multi-valued option takes both
  EXPECT_FALSE(f->last("g", "foo"));                       // 33: no section, no value
}

}  // namespace
}  // namespace lmh::harness

namespace lmh::harness {
namespace {

// docs/upstream/oslo-config-ini.md §3 and §5 (rows 41-58), §5.1 neutron-lib.
TEST(OsloTypes, BooleanAsOslo) {
  for (const char* t : {"True", "yes", "on", "1", "TRUE", "Yes"}) EXPECT_EQ(*oslo_bool(t), true) << t;
  for (const char* f : {"False", "no", "off", "0"}) EXPECT_EQ(*oslo_bool(f), false) << f;
  EXPECT_EQ(oslo_bool("t").status().message(), "Unexpected boolean value 't'");
  EXPECT_FALSE(oslo_bool("").ok());
  EXPECT_FALSE(oslo_bool(" true").ok());  // the type does not strip
  // foo = "false": the reader removed the quotes first.
  auto f = parse_oslo_ini("[DEFAULT]\nfoo = \"false\"\n", "F");
  EXPECT_EQ(*oslo_bool(f->last("DEFAULT", "foo")->text), false);
}

TEST(OsloTypes, IntegerAsOslo) {
  EXPECT_EQ(**oslo_int("666"), 666);
  EXPECT_EQ(**oslo_int("-123"), -123);
  EXPECT_EQ(**oslo_int("+7"), 7);
  EXPECT_EQ(**oslo_int("010"), 10);
  EXPECT_EQ(**oslo_int("   5"), 5);
  EXPECT_EQ(*oslo_int(""), std::nullopt);  // None, not the default
  EXPECT_EQ(*oslo_int("   \t"), std::nullopt);
  for (const char* bad : {"12a45", "0x10", "1.0", "1e3", "1\n2", "-"}) EXPECT_FALSE(oslo_int(bad).ok()) << bad;
}

TEST(OsloTypes, ListAsOslo) {
  using V = std::vector<std::string>;
  EXPECT_EQ(oslo_list(""), V{});
  EXPECT_EQ(oslo_list(" foo bar "), V{"foo bar"});
  EXPECT_EQ(oslo_list(" foo bar, baz "), (V{"foo bar", "baz"}));
  EXPECT_EQ(oslo_list("foo, bar, baz, "), (V{"foo", "bar", "baz"}));
  EXPECT_EQ(oslo_list("a,,b"), (V{"a", "", "b"}));
  EXPECT_EQ(oslo_list("a, ,"), (V{"a", ""}));
  EXPECT_EQ(oslo_list("[a,b]"), (V{"[a", "b]"}));
  EXPECT_EQ(oslo_list("a,\nb"), (V{"a", "b"}));  // a continuation line
}

TEST(OsloTypes, DictAsOslo) {
  using M = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(*oslo_dict(" foo: bar, baz: 123 "), (M{{"foo", "bar"}, {"baz", "123"}}));
  EXPECT_EQ(*oslo_dict("key:bar:baz"), (M{{"key", "bar:baz"}}));  // the first ':' splits
  EXPECT_EQ(*oslo_dict(""), M{});
  EXPECT_EQ(*oslo_dict("a:"), (M{{"a", ""}}));
  EXPECT_EQ(*oslo_dict("a:1,,b:2"), (M{{"a", "1"}, {",b", "2"}}));  // oslo's join-and-retry quirk
  EXPECT_EQ(oslo_dict("key:bar,baz").status().message(), "Value should be NAME:VALUE pairs separated by \",\"");
  EXPECT_FALSE(oslo_dict("foo,bar").ok());
  EXPECT_FALSE(oslo_dict("a:1,").ok());  // unlike a List
  EXPECT_EQ(oslo_dict("key:bar,key:baz").status().message(), "Duplicate key key");
  EXPECT_EQ(oslo_dict(":x").status().message(), "Key name should not be empty");
}

TEST(OsloTypes, NeutronMappingsAsNeutronLib) {
  using M = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(*neutron_mappings("physnet1:br-ex, physnet2 : br-vlan,"), (M{{"physnet1", "br-ex"}, {"physnet2", "br-vlan"}}));
  EXPECT_EQ(*neutron_mappings(""), M{});
  EXPECT_EQ(*neutron_mappings("a:x,,b:y"), (M{{"a", "x"}, {"b", "y"}}));
  EXPECT_EQ(neutron_mappings("key").status().message(), "Invalid mapping: 'key'");
  EXPECT_EQ(neutron_mappings(":val").status().message(), "Missing key in mapping: ':val'");
  EXPECT_EQ(neutron_mappings("key:").status().message(), "Missing value in mapping: 'key:'");
  EXPECT_EQ(neutron_mappings("key:val:junk").status().message(), "Invalid mapping: 'key:val:junk'");
  EXPECT_EQ(neutron_mappings("key:val1,key:val2").status().message(), "Key key in mapping: 'key:val2' not unique");
  EXPECT_EQ(neutron_mappings("key1:val,key2:val").status().message(), "Value val in mapping: 'key2:val' not unique");
}

TEST(OsloTypes, VlanRangesAsNeutronLib) {
  auto r = neutron_vlan_ranges("n1:1:3,n2:2:4,n3,n4,n4:10:12,n1:100:100");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  ASSERT_EQ(r->size(), 4u);
  EXPECT_EQ((*r)[0].first, "n1");
  ASSERT_EQ((*r)[0].second.size(), 2u);
  EXPECT_EQ((*r)[0].second[1].min, 100);
  EXPECT_EQ((*r)[2].second[0].max, 4094);  // n3: the whole range
  ASSERT_EQ((*r)[3].second.size(), 1u);     // n4: 10:12 ignored after the bare n4
  EXPECT_EQ(neutron_vlan_ranges("n1:1:4:5").status().message(),
            "Invalid network VLAN range: 'n1:1:4:5' - 'Need exactly two values for VLAN range'.");
  EXPECT_EQ(neutron_vlan_ranges(":1:4").status().message(), "Empty physical network name.");
  EXPECT_EQ(neutron_vlan_ranges("n1:a:4").status().message(),
            "Invalid network VLAN range: 'n1:a:4' - 'a is not a valid VLAN tag'.");
  EXPECT_FALSE(neutron_vlan_ranges("n1:1:4096").ok());
  EXPECT_EQ(neutron_vlan_ranges("n1:5:2").status().message(),
            "Invalid network VLAN range: 'n1:5:2' - 'End of VLAN range is less than start of VLAN range'.");
}

}  // namespace
}  // namespace lmh::harness

namespace lmh::harness {
namespace {

// Files as --config-file reads them, oldest first.
OsloConfig config(std::vector<std::pair<std::string, std::string>> files, OsloConfig::Defaults defaults = {}) {
  std::vector<IniFile> parsed;
  for (const auto& [path, text] : files) {
    auto f = parse_oslo_ini(text, path);
    EXPECT_TRUE(f.ok()) << f.status().to_string();
    if (f.ok()) parsed.push_back(std::move(f).value());
  }
  return OsloConfig(std::move(parsed), std::move(defaults));
}

std::string value_of(const OsloConfig& c, const std::string& group, const std::string& key) {
  auto v = c.get(group, key);
  if (!v.ok()) return "error: " + v.status().message();
  return *v ? (*v)->text : "(unset)";
}

// docs/upstream/oslo-config-ini.md §2.4, §4 and rows 35-37.
TEST(OsloConfig, LaterFilesOverrideAndMultiValuesAppendOldestFirst) {
  auto c = config({{"a.conf", "[DEFAULT]\nfoo = baar\nbar = 1\n"}, {"b.conf", "[DEFAULT]\nfoo = baaar\n"}});
  EXPECT_EQ(value_of(c, "DEFAULT", "foo"), "baaar");
  EXPECT_EQ(value_of(c, "DEFAULT", "bar"), "1");  // a file without the key keeps the earlier value
  EXPECT_EQ((*c.get("DEFAULT", "foo"))->where, "b.conf:2");
  EXPECT_EQ(value_of(c, "DEFAULT", "nope"), "(unset)");
  auto m = config({{"a", "[DEFAULT]\nfoo = bar1\n"}, {"b", "[DEFAULT]\nfoo = bar2\nfoo = bar3\n"}});
  auto all = m.get_multi("DEFAULT", "foo");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].text, "bar1");
  EXPECT_EQ((*all)[2].text, "bar3");
}

TEST(OsloConfig, SubstitutionAsOslo) {
  auto c = config({{"n.conf",
                    "[DEFAULT]\nmy_ip = 10.0.0.5\nstate = /var/lib/nova\nbar = $state/instances\n"
                    "url = http://$my_ip:8774/\nbraced = ${my_ip}x\nescaped = foo-somethin$$k2\n"
                    "backslash = foo-somethin\\$k2\nmalformed = $5 end$ ${a\nlist = p,q\nlst = $list,r\n"
                    "loop = $loop2\nloop2 = $loop\nmissing = a $nope b\n"
                    "[g]\na = G\nb = $a\nc = $state\nd = $g.a-$DEFAULT.my_ip\n"}});
  EXPECT_EQ(value_of(c, "DEFAULT", "bar"), "/var/lib/nova/instances");
  EXPECT_EQ(value_of(c, "DEFAULT", "url"), "http://10.0.0.5:8774/");  // ':' ends a name
  EXPECT_EQ(value_of(c, "DEFAULT", "braced"), "10.0.0.5x");
  EXPECT_EQ(value_of(c, "DEFAULT", "escaped"), "foo-somethin$k2");
  EXPECT_EQ(value_of(c, "DEFAULT", "backslash"), "foo-somethin$k2");
  EXPECT_EQ(value_of(c, "DEFAULT", "malformed"), "$5 end$ ${a");
  EXPECT_EQ(oslo_list(value_of(c, "DEFAULT", "lst")), (std::vector<std::string>{"p", "q", "r"}));  // before splitting
  EXPECT_EQ(value_of(c, "g", "b"), "G");               // the option's own group first
  EXPECT_EQ(value_of(c, "g", "c"), "/var/lib/nova");   // then DEFAULT
  EXPECT_EQ(value_of(c, "g", "d"), "G-10.0.0.5");
  EXPECT_EQ(value_of(c, "DEFAULT", "loop"), "error: n.conf:12: DEFAULT.loop: substitution loop");
  EXPECT_EQ(value_of(c, "DEFAULT", "missing"), "error: n.conf:14: DEFAULT.missing: references $nope, which no file sets");
  // A service default stands in for what no file sets.
  auto d = config({{"n.conf", "[DEFAULT]\ninstances_path = $state_path/instances\n"}},
                  {{{"DEFAULT", "state_path"}, "/var/lib/nova"}});
  EXPECT_EQ(value_of(d, "DEFAULT", "instances_path"), "/var/lib/nova/instances");
}

}  // namespace
}  // namespace lmh::harness

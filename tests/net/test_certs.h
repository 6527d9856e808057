#pragma once

// Certificates made at test time with the openssl CLI, in a fresh directory under
// /tmp that the destructor removes: CAs, and certificates issued by one of them for
// 127.0.0.1 / localhost (usable as server and as client certificates).

#include <stdlib.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace tri::testing {

class TestCerts {
 public:
  TestCerts() {
    char pattern[] = "/tmp/tri-tls-test-XXXXXX";
    if (::mkdtemp(pattern) != nullptr) dir_ = pattern;
  }
  ~TestCerts() {
    if (!dir_.empty()) (void)std::system(("rm -rf '" + dir_ + "'").c_str());
  }
  TestCerts(const TestCerts&) = delete;
  TestCerts& operator=(const TestCerts&) = delete;

  bool ok() const { return !dir_.empty(); }
  const std::string& dir() const { return dir_; }
  // "<dir>/<file>".
  std::string Path(const std::string& file) const { return dir_ + "/" + file; }

  // Writes <ca>.crt and <ca>.key: a self-signed CA.
  bool MakeCa(const std::string& ca) {
    return Run(
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
        " -keyout " +
        ca + ".key -out " + ca + ".crt -days 2 -subj '/CN=" + ca + "'");
  }

  // Writes <name>.crt and <name>.key, issued by `ca` for IP 127.0.0.1 and localhost.
  bool Issue(const std::string& name, const std::string& ca) {
    return Run("printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > " + name + ".ext" +
               " && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " +
               name + ".key -out " + name + ".csr -subj '/CN=" + name + "'" +
               " && openssl x509 -req -in " + name + ".csr -CA " + ca + ".crt -CAkey " + ca +
               ".key -CAcreateserial -out " + name + ".crt -days 2 -extfile " + name + ".ext");
  }

  // The contents of <dir>/<file> ("" when unreadable).
  std::string Read(const std::string& file) const {
    std::ifstream in(Path(file), std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

 private:
  bool Run(const std::string& commands) {
    if (dir_.empty()) return false;
    const std::string script =
        "cd '" + dir_ + "' && (" + commands + ") >> '" + dir_ + "/openssl.log' 2>&1";
    return std::system(script.c_str()) == 0;
  }

  std::string dir_;
};

}  // namespace tri::testing

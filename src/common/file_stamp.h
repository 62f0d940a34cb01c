// FileStamp: a fingerprint of a file's identity and contents as the filesystem reports them
// (size, modification time, inode), for noticing that a file was rewritten or replaced
// (Kubernetes swaps a mounted Secret's symlink; cert-manager renames new files in place).
#pragma once

#include <string>

namespace strand {

// "-" when the file cannot be looked at; otherwise a string that changes whenever the
// file's size, modification time or inode does.
std::string FileStamp(const std::string& path);

}  // namespace strand

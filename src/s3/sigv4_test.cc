// SignV4 against the examples AWS publishes: the S3 API reference's "Examples: Signature
// Calculations" (GET object with a range, PUT object, GET bucket lifecycle, list objects;
// access key AKIAIOSFODNN7EXAMPLE) and the Signature Version 4 test suite's get-vanilla
// (AKIDEXAMPLE, service "service").
#include "s3/sigv4.h"

#include <gtest/gtest.h>

namespace strand::s3 {
namespace {

constexpr char kEmptySha256[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

const Credentials kS3Example{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                             ""};

SigningInput S3Get(std::string path, std::vector<std::pair<std::string, std::string>> query) {
  SigningInput in;
  in.method = "GET";
  in.path = std::move(path);
  in.query = std::move(query);
  in.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                {"x-amz-date", "20130524T000000Z"},
                {"x-amz-content-sha256", kEmptySha256}};
  in.payload_hash = kEmptySha256;
  return in;
}

TEST(SigV4Test, S3GetObjectWithRange) {
  SigningInput in = S3Get("/test.txt", {});
  in.headers.emplace_back("Range", "bytes=0-9");
  SigningResult r = SignV4(in, kS3Example, "us-east-1", "s3", "20130524T000000Z");
  EXPECT_EQ(
      r.canonical_request,
      "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
      "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
      "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(r.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(r.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(r.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
            "aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4Test, S3PutObject) {
  const std::string body = "Welcome to Amazon S3.";
  EXPECT_EQ(Sha256Hex(body), "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  SigningInput in;
  in.method = "PUT";
  in.path = UriEncodePath("/test$file.text");
  EXPECT_EQ(in.path, "/test%24file.text");
  in.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                {"x-amz-date", "20130524T000000Z"},
                {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                {"x-amz-content-sha256", Sha256Hex(body)}};
  in.payload_hash = Sha256Hex(body);
  SigningResult r = SignV4(in, kS3Example, "us-east-1", "s3", "20130524T000000Z");
  EXPECT_EQ(r.signed_headers, "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class");
  EXPECT_EQ(r.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
  EXPECT_EQ(r.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4Test, S3GetBucketLifecycleSignsAnEmptyQueryValue) {
  SigningResult r =
      SignV4(S3Get("/", {{"lifecycle", ""}}), kS3Example, "us-east-1", "s3", "20130524T000000Z");
  EXPECT_NE(r.canonical_request.find("\n/\nlifecycle=\n"), std::string::npos)
      << r.canonical_request;
  EXPECT_EQ(r.signature, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4Test, S3ListObjectsSortsTheQuery) {
  SigningResult r = SignV4(S3Get("/", {{"prefix", "J"}, {"max-keys", "2"}}), kS3Example,
                           "us-east-1", "s3", "20130524T000000Z");
  EXPECT_NE(r.canonical_request.find("\n/\nmax-keys=2&prefix=J\n"), std::string::npos)
      << r.canonical_request;
  EXPECT_EQ(r.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7");
  EXPECT_EQ(r.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4Test, TestSuiteGetVanilla) {
  SigningInput in;
  in.method = "GET";
  in.path = "/";
  in.headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}};
  in.payload_hash = kEmptySha256;
  SigningResult r = SignV4(in, {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""},
                           "us-east-1", "service", "20150830T123600Z");
  EXPECT_EQ(r.signed_headers, "host;x-amz-date");
  EXPECT_EQ(r.signature, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(SigV4Test, HeaderValuesAreTrimmedAndRepeatedNamesJoined) {
  SigningInput in;
  in.method = "GET";
  in.path = "/";
  in.headers = {{"My-Header1", "  a   b  c "}, {"host", "h"}, {"my-header1", "d"}};
  in.payload_hash = "UNSIGNED-PAYLOAD";
  SigningResult r = SignV4(in, {"k", "s", ""}, "r", "s3", "20200101T000000Z");
  EXPECT_EQ(r.canonical_request,
            "GET\n/\n\nhost:h\nmy-header1:a b c,d\n\nhost;my-header1\nUNSIGNED-PAYLOAD");
}

TEST(SigV4Test, EncodingAndDates) {
  EXPECT_EQ(UriEncode("a b/c~d*é"), "a%20b%2Fc~d%2A%C3%A9");
  EXPECT_EQ(UriEncodePath("/blocks/t 1/x+y"), "/blocks/t%201/x%2By");
  EXPECT_EQ(AmzDate(1369353600), "20130524T000000Z");
  EXPECT_EQ(Sha256Hex(""), kEmptySha256);
}

}  // namespace
}  // namespace strand::s3

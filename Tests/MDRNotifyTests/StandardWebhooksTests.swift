import Foundation
import MDRNotify
import Testing

struct StandardWebhooksTests {
    // The published test vector of the Standard Webhooks reference libraries:
    // github.com/standard-webhooks/standard-webhooks, libraries/javascript/src/webhook.test.ts, test "sign function works"
    // (key "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", id "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp 1614265330,
    // payload '{"test": 2432232314}', expected "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=").
    let vectorSecret = WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")!
    let vectorID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
    let vectorTimestamp: Int64 = 1_614_265_330
    let vectorBody = Data(#"{"test": 2432232314}"#.utf8)
    let vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    var vectorNow: Date { Date(timeIntervalSince1970: TimeInterval(vectorTimestamp)) }

    let newSecret = WebhookSecret(bytes: Array(repeating: UInt8(7), count: 32))!

    func verify(
        id: String? = nil, timestamp: String? = nil, signatures: String, body: Data? = nil, secrets: [WebhookSecret],
        now: Date? = nil, tolerance: Duration = StandardWebhooks.defaultTolerance
    ) throws(WebhookVerificationError) {
        try StandardWebhooks.verify(
            id: id ?? vectorID, timestamp: timestamp ?? String(vectorTimestamp), signatures: signatures,
            body: body ?? vectorBody, secrets: secrets, now: now ?? vectorNow, tolerance: tolerance)
    }

    func code(_ run: () throws(WebhookVerificationError) -> Void) -> WebhookVerificationError.Code? {
        do {
            try run()
            return nil
        } catch {
            return error.code
        }
    }

    @Test func signatureMatchesTheSpecTestVector() throws {
        let signature = StandardWebhooks.signature(id: vectorID, timestamp: vectorTimestamp, body: vectorBody, secret: vectorSecret)
        #expect(signature == vectorSignature)
        try verify(signatures: vectorSignature, secrets: [vectorSecret])
    }

    @Test func secretParsesWithAndWithoutPrefixAndRefusesInvalidBase64() {
        #expect(WebhookSecret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") == vectorSecret)
        #expect(vectorSecret.encoded == "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        #expect(WebhookSecret("whsec_not base64!") == nil)
        #expect(WebhookSecret("whsec_") == nil)
        #expect(!String(describing: vectorSecret).contains("MfKQ"))
    }

    @Test func duringRotationEitherSecretVerifies() throws {
        let header = StandardWebhooks.signatureHeaderValue(
            id: vectorID, timestamp: vectorTimestamp, body: vectorBody, secrets: [vectorSecret, newSecret])
        let parts = header.split(separator: " ")
        #expect(parts.count == 2)
        #expect(parts[0] == vectorSignature[...])
        try verify(signatures: header, secrets: [vectorSecret])
        try verify(signatures: header, secrets: [newSecret])
        let unrelated = WebhookSecret(bytes: Array(repeating: UInt8(9), count: 32))!
        #expect(code { () throws(WebhookVerificationError) in try verify(signatures: header, secrets: [unrelated]) } == .noMatchingSignature)
    }

    @Test func tamperedBodyIdOrTimestampIsRefused() {
        #expect(code { () throws(WebhookVerificationError) in
            try verify(signatures: vectorSignature, body: Data(#"{"test": 2432232315}"#.utf8), secrets: [vectorSecret])
        } == .noMatchingSignature)
        #expect(code { () throws(WebhookVerificationError) in
            try verify(id: "msg_other", signatures: vectorSignature, secrets: [vectorSecret])
        } == .noMatchingSignature)
        #expect(code { () throws(WebhookVerificationError) in
            try verify(timestamp: String(vectorTimestamp + 1), signatures: vectorSignature, secrets: [vectorSecret])
        } == .noMatchingSignature)
    }

    @Test func onlyV1SignaturesCount() {
        let otherVersion = "v2," + vectorSignature.dropFirst(3)
        #expect(code { () throws(WebhookVerificationError) in
            try verify(signatures: otherVersion, secrets: [vectorSecret])
        } == .noMatchingSignature)
        #expect(code { () throws(WebhookVerificationError) in
            try verify(signatures: "v1,garbage v1, " + vectorSignature, secrets: [vectorSecret])
        } == nil)
    }

    @Test func timestampsOutsideTheToleranceAreRefusedEitherWay() {
        let fiveMinutes: TimeInterval = 300
        for (offset, expected) in [
            (fiveMinutes, nil), (-fiveMinutes, nil), (fiveMinutes + 1, WebhookVerificationError.Code.timestampOutOfTolerance),
            (-fiveMinutes - 1, .timestampOutOfTolerance),
        ] {
            #expect(code { () throws(WebhookVerificationError) in
                try verify(signatures: vectorSignature, secrets: [vectorSecret], now: vectorNow.addingTimeInterval(offset))
            } == expected, "offset \(offset)")
        }
        #expect(code { () throws(WebhookVerificationError) in
            try verify(
                signatures: vectorSignature, secrets: [vectorSecret], now: vectorNow.addingTimeInterval(31), tolerance: .seconds(30))
        } == .timestampOutOfTolerance)
    }

    @Test func missingHeadersAndNonNumericTimestampsAreRefused() {
        #expect(code { () throws(WebhookVerificationError) in
            try StandardWebhooks.verify(
                id: nil, timestamp: "1", signatures: vectorSignature, body: vectorBody, secrets: [vectorSecret], now: vectorNow)
        } == .missingHeader)
        #expect(code { () throws(WebhookVerificationError) in
            try verify(signatures: "", secrets: [vectorSecret])
        } == .missingHeader)
        #expect(code { () throws(WebhookVerificationError) in
            try verify(timestamp: "2021-02-25T15:02:10Z", signatures: vectorSignature, secrets: [vectorSecret])
        } == .invalidTimestamp)
    }

    @Test func headersCarryTheIdUnixSecondsAndOneSignaturePerSecret() throws {
        let now = Date(timeIntervalSince1970: 1_700_000_000.75)
        let headers = StandardWebhooks.headers(id: "ntf_1", body: vectorBody, secrets: [vectorSecret, newSecret], now: now)
        #expect(headers.map(\.name) == ["webhook-id", "webhook-timestamp", "webhook-signature"])
        #expect(headers[0].value == "ntf_1")
        #expect(headers[1].value == "1700000000")
        try StandardWebhooks.verify(
            id: headers[0].value, timestamp: headers[1].value, signatures: headers[2].value, body: vectorBody,
            secrets: [newSecret], now: now)
    }
}

using System.Text.Json.Serialization;

namespace KcpKestrel.Interop.Tests;

/// <summary>The one JSON line the Go peer's client prints.</summary>
public sealed record PeerResult(
    [property: JsonPropertyName("workload")] string Workload,
    [property: JsonPropertyName("bytes")] long Bytes,
    [property: JsonPropertyName("seconds")] double Seconds,
    [property: JsonPropertyName("mb_per_s")] double MegabytesPerSecond,
    [property: JsonPropertyName("ok")] bool Ok,
    [property: JsonPropertyName("errors")] int Errors,
    [property: JsonPropertyName("error")] string? Error);

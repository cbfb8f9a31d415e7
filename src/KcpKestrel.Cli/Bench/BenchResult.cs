using System.Text;
using System.Text.Json;

namespace KcpKestrel.Cli.Bench;

/// <summary>The one JSON line a bench prints last; field names as the Go peer's.</summary>
internal sealed record BenchResult
{
    public required string Workload { get; init; }

    public string Transport { get; init; } = "kcp";

    public long Bytes { get; init; }

    public double Seconds { get; init; }

    public double RttP50Us { get; init; }

    public double RttP99Us { get; init; }

    /// <summary>99.9th percentile round trip in µs (ping-pong, echo and sessions; 0 where not measured).</summary>
    public double RttP999Us { get; init; }

    public bool Ok { get; init; }

    public int Errors { get; init; }

    public string? Error { get; init; }

    /// <summary>Sessions that ran (sessions workload).</summary>
    public int Sessions { get; init; }

    /// <summary>
    /// The bench's own KCP sessions' counters: retransmitted segments (fast + early + timeout), data shards rebuilt
    /// from FEC parity, and segments sent (all kinds, as kcp-go's OutSegs).
    /// </summary>
    public SessionFigures Figures { get; init; }

    /// <summary>Datagrams the kernel dropped before the bench's KCP loops read them (a full socket receive buffer).</summary>
    public long KernelDrops { get; init; }

    /// <summary>
    /// Milliseconds the one connection took to open (for KCP: the dial's probe, address validation and the
    /// peer's answer); null for the sessions workload, which opens many.
    /// </summary>
    public double? ConnectMs { get; init; }

    /// <summary>HTTP requests or gRPC calls answered (http and grpc workloads).</summary>
    public int Requests { get; init; }

    /// <summary>Milliseconds from the start to the first HTTP response or gRPC reply, its dial included (http and grpc workloads).</summary>
    public double? FirstResponseMs { get; init; }

    /// <summary>Connections (or smux streams) bulk and echo ran over at once (--streams).</summary>
    public int Streams { get; init; } = 1;

    /// <summary>HTTP connections opened (http and grpc workloads).</summary>
    public int Dials { get; init; }

    /// <summary>Median time to open an HTTP connection, in µs: a KCP dial, a smux stream open or a TCP connect (http workload).</summary>
    public double DialP50Us { get; init; }

    /// <summary>99th percentile of <see cref="DialP50Us"/>'s samples (http workload).</summary>
    public double DialP99Us { get; init; }

    /// <summary>KCP sessions the bench dialed (with smux: pooled sessions, not streams); null on TCP.</summary>
    public int? KcpSessions { get; init; }

    /// <summary>Whether the connections were smux streams on shared sessions.</summary>
    public bool Smux { get; init; }

    public double RequestsPerSecond => Seconds > 0 ? Requests / Seconds : 0;

    public double MegabytesPerSecond => Seconds > 0 ? Bytes / Seconds / 1e6 : 0;

    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteString("workload", Workload);
            json.WriteString("transport", Transport);
            json.WriteNumber("bytes", Bytes);
            json.WriteNumber("seconds", Math.Round(Seconds, 6));
            json.WriteNumber("mb_per_s", Math.Round(MegabytesPerSecond, 3));
            json.WriteNumber("rtt_p50_us", RttP50Us);
            json.WriteNumber("rtt_p99_us", RttP99Us);
            json.WriteNumber("rtt_p999_us", RttP999Us);
            json.WriteBoolean("ok", Ok);
            json.WriteNumber("errors", Errors);
            if (ConnectMs is { } connectMs)
            {
                json.WriteNumber("connect_ms", Math.Round(connectMs, 3));
            }

            if (Sessions > 0)
            {
                json.WriteNumber("sessions", Sessions);
            }

            if (Transport == "kcp")
            {
                json.WriteNumber("retransmits", Figures.Retransmits);
                json.WriteNumber("segments_sent", Figures.SegmentsSent);
                json.WriteNumber("fec_recovered", Figures.FecRecovered);
                json.WriteNumber("kernel_drops", KernelDrops);
                json.WriteBoolean("smux", Smux);
                if (KcpSessions is { } kcpSessions)
                {
                    json.WriteNumber("kcp_sessions", kcpSessions);
                }
            }

            if (Streams > 1)
            {
                json.WriteNumber("streams", Streams);
            }

            if (Workload is "http" or "grpc")
            {
                // rtt_p50_us/rtt_p99_us above are the requests' latencies.
                json.WriteNumber("requests", Requests);
                json.WriteNumber("requests_per_s", Math.Round(RequestsPerSecond, 1));
                if (FirstResponseMs is { } firstResponseMs)
                {
                    json.WriteNumber("first_response_ms", Math.Round(firstResponseMs, 3));
                }

                json.WriteNumber("dials", Dials);
                json.WriteNumber("dial_p50_us", Math.Round(DialP50Us, 1));
                json.WriteNumber("dial_p99_us", Math.Round(DialP99Us, 1));
            }

            if (Error is not null)
            {
                json.WriteString("error", Error);
            }

            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }
}

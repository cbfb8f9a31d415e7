using System.Diagnostics.Metrics;

namespace KcpKestrel.Protocols.Snappy;

/// <summary>The counters of every <see cref="SnappyDuplexPipe"/> in the process.</summary>
internal static class SnappyInstruments
{
    public const string MeterName = "KcpKestrel.Protocols.Snappy";

    private static readonly Meter s_meter = new(MeterName);

    /// <summary>Streams closed because the peer sent bytes that break the snappy framing format.</summary>
    public static readonly Counter<long> CorruptStreams = s_meter.CreateCounter<long>(
        "kcpkestrel.snappy.corrupt_streams", "{stream}", "Snappy streams closed because the peer broke the framing format.");
}

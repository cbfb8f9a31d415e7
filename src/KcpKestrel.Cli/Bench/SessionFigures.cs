namespace KcpKestrel.Cli.Bench;

/// <summary>What a bench reports of its KCP sessions' own counters; all 0 on TCP.</summary>
internal readonly record struct SessionFigures(long Retransmits, long FecRecovered, long SegmentsSent)
{
    public static SessionFigures operator +(SessionFigures a, SessionFigures b) =>
        new(a.Retransmits + b.Retransmits, a.FecRecovered + b.FecRecovered, a.SegmentsSent + b.SegmentsSent);

    /// <summary>Each counter's larger value: the later of two snapshots of one session.</summary>
    public static SessionFigures Latest(SessionFigures a, SessionFigures b) =>
        new(Math.Max(a.Retransmits, b.Retransmits), Math.Max(a.FecRecovered, b.FecRecovered), Math.Max(a.SegmentsSent, b.SegmentsSent));
}

using KcpKestrel.Core.Arq;

namespace KcpKestrel.Core.Tests.Congestion;

/// <summary>
/// A one-way bulk transfer from A to B over a <see cref="BottleneckLink"/>, stepped one virtual ms at a time
/// (the loop's timer tick): A's app keeps its send queue full, B's app reads everything at once.
/// </summary>
internal sealed class BulkTransfer : IDisposable
{
    private const uint Conv = 0xBB5;
    private readonly byte[] _chunk = new byte[16 * 1024];
    private readonly byte[] _read = new byte[300 * 1400];

    public BulkTransfer(BottleneckLink link, bool rateControl, int receiveWindow = 1024)
    {
        Link = link;
        A = new KcpControlBlock(Conv, new Endpoint(link, 1));
        B = new KcpControlBlock(Conv, new Endpoint(link, 0));
        foreach (var kcp in new[] { A, B })
        {
            KcpNoDelayPreset.Fast3.ApplyTo(kcp);
            kcp.SetWindowSize(1024, receiveWindow);
        }

        if (rateControl)
        {
            A.UseRateControl();
        }
    }

    public BottleneckLink Link { get; }

    public KcpControlBlock A { get; }

    public KcpControlBlock B { get; }

    /// <summary>App bytes B has read.</summary>
    public long Received { get; private set; }

    /// <summary>The most segments A ever had between snd_una and snd_nxt.</summary>
    public uint MaxInFlightSegments { get; set; }

    public void Run(int ms)
    {
        for (var i = 0; i < ms; i++)
        {
            Step();
        }
    }

    public void Step()
    {
        var now = (uint)Link.Now;
        while (Link.TryReceive(out var to, out var datagram))
        {
            (to == 0 ? A : B).Input(datagram, now, ackNoDelay: true);
        }

        while (A.WaitSnd < 2048)
        {
            A.Send(_chunk);
        }

        A.Update(now);
        B.Update(now);
        int n;
        while ((n = B.Receive(_read)) > 0)
        {
            Received += n;
        }

        MaxInFlightSegments = Math.Max(MaxInFlightSegments, A.SndNxt - A.SndUna);
        Link.Now++;
    }

    public void Dispose()
    {
        A.Dispose();
        B.Dispose();
    }

    private sealed class Endpoint(BottleneckLink link, int to) : IKcpOutput
    {
        public void Output(Span<byte> buffer) => link.Send(to, buffer);
    }
}

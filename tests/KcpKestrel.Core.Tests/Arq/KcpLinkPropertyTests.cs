using CsCheck;
using KcpKestrel.Core.Arq;

namespace KcpKestrel.Core.Tests.Arq;

/// <summary>
/// Two engines over a lossy, reordering, duplicating link in virtual time: every message arrives exactly
/// once, in order, byte-identical, within bounded virtual time, and the invariants hold after every step.
/// CsCheck prints the seed and the failing <see cref="LinkCase"/>; rerun it with <c>seed:</c> to reproduce.
/// </summary>
public sealed class KcpLinkPropertyTests
{
    private const long VirtualTimeLimitMs = 600_000;

    internal sealed record LinkCase(
        int Seed, int LossPercent, int DelayMs, int JitterMs, int DupPercent, KcpNoDelayPreset Mode, bool CongestionControl,
        int Window, uint ClockStart, uint SnStart, int[] Sizes, bool RateControl)
    {
        public override string ToString() =>
            $"seed={Seed} loss={LossPercent}% delay={DelayMs} jitter={JitterMs} dup={DupPercent}% mode={Mode} cc={CongestionControl} " +
            $"wnd={Window} clock={ClockStart} sn={SnStart} sizes=[{string.Join(',', Sizes)}] bbr={RateControl}";
    }

    private static Gen<LinkCase> CaseGen(int maxSize, int maxCount) =>
        Gen.Select(
            Gen.Int, Gen.Int[0, 30], Gen.Int[0, 60], Gen.Int[0, 40], Gen.Int[0, 10], Gen.OneOfConst([.. KcpNoDelayPreset.All]), Gen.Bool,
            Gen.Int[32, 256])
        .SelectMany(t => Gen.Select(
                Gen.OneOf(Gen.UInt[uint.MaxValue - 20_000, uint.MaxValue], Gen.UInt),
                Gen.OneOf(Gen.UInt[uint.MaxValue - 300, uint.MaxValue], Gen.Const(0u)),
                Gen.Int[1, maxSize].Array[1, maxCount],
                Gen.Bool)
            .Select((clock, sn, sizes, bbr) => new LinkCase(
                t.Item1, t.Item2, t.Item3, t.Item4, t.Item5, t.Item6, t.Item7, t.Item8, clock, sn, sizes, bbr)));

    [Fact]
    public void MessageMode_DeliversEveryMessageOnceInOrder()
    {
        CaseGen(6000, 40).Sample(c => Run(c, stream: false), iter: 400, threads: 1);
    }

    [Fact]
    public void StreamMode_DeliversTheByteStreamIntact()
    {
        CaseGen(9000, 30).Sample(c => Run(c, stream: true), iter: 200, threads: 1);
    }

    private static byte[] Message(int seed, int index, int size)
    {
        var bytes = new byte[size];
        new Random(HashCode.Combine(seed, index)).NextBytes(bytes);
        return bytes;
    }

    private static void Run(LinkCase c, bool stream)
    {
        var link = new SimulatedLink(c.Seed, c.LossPercent / 100.0, c.DelayMs, c.JitterMs, c.DupPercent / 100.0);
        using var pair = new LinkedPair(link, 0xC0FFEE, c.ClockStart);
        foreach (var kcp in new[] { pair.A, pair.B })
        {
            var preset = c.CongestionControl ? c.Mode with { NoCongestionControl = false } : c.Mode;
            preset.ApplyTo(kcp);

            kcp.SetWindowSize(c.Window, c.Window);
            kcp.StreamMode = stream;
            kcp.DeadLink = 1000;
            kcp.StartSequenceAt(c.SnStart);
            if (c.RateControl)
            {
                kcp.UseRateControl();
            }
        }

        var messages = new byte[c.Sizes.Length][];
        for (var i = 0; i < messages.Length; i++)
        {
            messages[i] = Message(c.Seed, i, c.Sizes[i]);
        }

        var expectedStream = stream ? messages.SelectMany(m => m).ToArray() : [];
        var receivedStream = new List<byte>();
        var buffer = new byte[c.Sizes.Max() + pair.B.Mss];
        var sent = 0;
        var received = 0;

        while (true)
        {
            while (sent < messages.Length && pair.A.WaitSnd < 2 * c.Window)
            {
                Assert.Equal(messages[sent].Length, pair.A.Send(messages[sent]));
                sent++;
            }

            var broken = pair.Step();
            Assert.True(broken is null, $"{broken} at t={link.Now} ({c})");

            int n;
            while ((n = pair.B.Receive(buffer)) >= 0)
            {
                if (stream)
                {
                    receivedStream.AddRange(buffer.AsSpan(0, n).ToArray());
                    Assert.True(receivedStream.Count <= expectedStream.Length, $"stream overrun ({c})");
                }
                else
                {
                    Assert.True(received < messages.Length, $"extra message ({c})");
                    Assert.True(buffer.AsSpan(0, n).SequenceEqual(messages[received]), $"message {received} differs ({c})");
                    received++;
                }
            }

            var done = stream ? receivedStream.Count == expectedStream.Length : received == messages.Length;
            if (done && pair.A.WaitSnd == 0)
            {
                break;
            }

            Assert.True(link.Now < VirtualTimeLimitMs, $"not done after {link.Now} ms virtual ({c})");
            pair.Advance(50);
        }

        if (stream)
        {
            Assert.True(expectedStream.AsSpan().SequenceEqual(receivedStream.ToArray()), $"stream differs ({c})");
        }

        Assert.Equal(0UL, pair.A.Statistics.RejectedTotal + pair.B.Statistics.RejectedTotal);
        Assert.Equal(0, pair.B.ReceiveQueueCount);
    }
}

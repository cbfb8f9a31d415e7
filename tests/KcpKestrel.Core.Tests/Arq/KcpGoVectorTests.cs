using System.Buffers.Binary;
using KcpKestrel.Core.Arq;

namespace KcpKestrel.Core.Tests.Arq;

/// <summary>
/// Replays the scenarios of tests/GoVectors/kcp/main.go on our engine and compares the datagrams with the ones
/// kcp-go 5.6.1 wrote, every segment's ts masked (kcp-go takes it from its own clock).
/// </summary>
public sealed class KcpGoVectorTests
{
    private const uint Conv = 0x11223344;
    private const uint Clock = 5000;

    private static readonly Lazy<Dictionary<string, List<string>>> Vectors = new(Load);

    public static TheoryData<string> Scenarios => new() { "message", "stream", "reserved", "cwnd", "window", "acknodelay" };

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void Datagrams_MatchKcpGo_ExceptTs(string scenario)
    {
        var expected = Vectors.Value[scenario];
        var actual = Run(scenario);

        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(Mask(scenario, expected[i]), Mask(scenario, actual[i]));
        }
    }

    [Theory]
    [InlineData("message", false)]
    [InlineData("cwnd", false)]
    [InlineData("stream", true)]
    public void KcpGoDatagrams_AreAcceptedAndReassembled(string scenario, bool stream)
    {
        var output = new CapturingOutput();
        using var b = new KcpControlBlock(Conv, output) { StreamMode = stream };
        var lines = Vectors.Value[scenario];
        foreach (var line in lines.Where(l => l.StartsWith("A ", StringComparison.Ordinal)))
        {
            Assert.Equal(KcpInputResult.Ok, b.Input(Convert.FromHexString(line[2..]), Clock));
        }

        var received = new List<string>();
        var buffer = new byte[1 << 16];
        int n;
        while ((n = b.Receive(buffer)) >= 0)
        {
            received.Add($"B recv {n} {Convert.ToHexStringLower(buffer.AsSpan(0, Math.Min(n, 8)))}");
        }

        Assert.Equal(lines.Where(l => l.StartsWith("B recv", StringComparison.Ordinal)), received);
        Assert.Equal(0UL, b.Statistics.RejectedTotal);
    }

    /// <summary>The datagrams kcp-go wrote in <paramref name="scenario"/>, both directions.</summary>
    internal static IEnumerable<byte[]> KcpGoDatagrams(string scenario) =>
        Vectors.Value[scenario].Where(l => !l.Contains(" recv ", StringComparison.Ordinal)).Select(l => Convert.FromHexString(l[2..]));

    private static Dictionary<string, List<string>> Load()
    {
        var result = new Dictionary<string, List<string>>();
        foreach (var line in File.ReadLines(Path.Combine(AppContext.BaseDirectory, "Arq", "TestData", "kcp-go-vectors.txt")))
        {
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            var scenario = line[..space];
            if (!result.TryGetValue(scenario, out var list))
            {
                result[scenario] = list = [];
            }

            list.Add(line[(space + 1)..]);
        }

        return result;
    }

    private static string Mask(string scenario, string line)
    {
        if (line.Contains(" recv ", StringComparison.Ordinal))
        {
            return line;
        }

        var bytes = Convert.FromHexString(line[2..]);
        var offset = scenario == "reserved" ? 28 : 0;
        while (offset + SegmentHeader.Size <= bytes.Length)
        {
            bytes.AsSpan(offset + 8, 4).Clear();
            offset += SegmentHeader.Size + (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset + 20));
        }

        return line[..2] + Convert.ToHexStringLower(bytes);
    }

    private static byte[] Payload(int msg, int size)
    {
        var b = new byte[size];
        for (var i = 0; i < size; i++)
        {
            b[i] = (byte)((i * 7) + (msg * 13));
        }

        return b;
    }

    private sealed class Peer : IKcpOutput, IDisposable
    {
        private readonly List<string> _log;
        private readonly string _name;
        private readonly List<byte[]> _out = [];

        public Peer(string name, List<string> log)
        {
            _name = name;
            _log = log;
            Kcp = new KcpControlBlock(Conv, this) { AnnounceWindowReopen = false };
        }

        public KcpControlBlock Kcp { get; }

        public int Strip { get; set; }

        public void Output(Span<byte> buffer)
        {
            _out.Add(buffer.ToArray());
            _log.Add($"{_name} {Convert.ToHexStringLower(buffer)}");
        }

        public void Flush() => Kcp.FlushAt(Clock);

        public void DeliverTo(Peer other, bool ackNoDelay = false)
        {
            var batch = _out.ToList();
            _out.Clear();
            foreach (var d in batch)
            {
                Assert.Equal(KcpInputResult.Ok, other.Kcp.Input(d.AsSpan(Strip), Clock, ackNoDelay));
            }
        }

        public void Drain()
        {
            var buffer = new byte[1 << 20];
            int n;
            while ((n = Kcp.Receive(buffer)) >= 0)
            {
                RecordReceive(n, buffer);
            }
        }

        public void RecordReceive(int n, byte[] buffer) =>
            _log.Add($"{_name} recv {n} {Convert.ToHexStringLower(buffer.AsSpan(0, Math.Min(n, 8)))}");

        public void Dispose() => Kcp.Dispose();
    }

    private static void Exchange(Peer a, Peer b)
    {
        for (var round = 0; round < 6; round++)
        {
            a.Flush();
            a.DeliverTo(b);
            b.Flush();
            b.DeliverTo(a);
        }
    }

    private static List<string> Run(string scenario)
    {
        var log = new List<string>();
        using var a = new Peer("A", log);
        using var b = new Peer("B", log);
        switch (scenario)
        {
            case "message":
                a.Kcp.SetNoDelay(0, 40, 2, true);
                b.Kcp.SetNoDelay(0, 40, 2, true);
                int[] sizes = [1, 100, 1376, 1377, (3 * 1376) + 5];
                for (var i = 0; i < sizes.Length; i++)
                {
                    Assert.Equal(sizes[i], a.Kcp.Send(Payload(i, sizes[i])));
                }

                Exchange(a, b);
                b.Drain();
                break;
            case "stream":
                a.Kcp.StreamMode = b.Kcp.StreamMode = true;
                a.Kcp.SetNoDelay(1, 20, 2, true);
                b.Kcp.SetNoDelay(1, 20, 2, true);
                int[] chunks = [500, 500, 500, 2000];
                for (var i = 0; i < chunks.Length; i++)
                {
                    a.Kcp.Send(Payload(i, chunks[i]));
                }

                Exchange(a, b);
                b.Drain();
                break;
            case "reserved":
                foreach (var p in new[] { a, b })
                {
                    Assert.True(p.Kcp.SetMtu(600));
                    p.Kcp.ReservedBytes = 28;
                    p.Kcp.SetNoDelay(1, 10, 2, true);
                    p.Kcp.SetWindowSize(128, 128);
                    p.Strip = 28;
                }

                a.Kcp.Send(Payload(0, 2000));
                a.Kcp.Send(Payload(1, 10));
                for (var round = 0; round < 4; round++)
                {
                    a.Flush();
                    a.DeliverTo(b);
                    b.Flush();
                    b.DeliverTo(a);
                }

                b.Drain();
                break;
            case "cwnd":
                for (var i = 0; i < 12; i++)
                {
                    a.Kcp.Send(Payload(i, 200 + i));
                }

                Exchange(a, b);
                b.Drain();
                break;
            case "window":
                a.Kcp.SetNoDelay(0, 40, 0, true);
                b.Kcp.SetNoDelay(0, 40, 0, true);
                b.Kcp.SetWindowSize(32, 4);
                for (var i = 0; i < 6; i++)
                {
                    a.Kcp.Send(Payload(i, 50));
                }

                a.Flush();
                a.DeliverTo(b);
                b.Flush();
                b.DeliverTo(a);
                a.Flush();
                a.DeliverTo(b);
                var buffer = new byte[100];
                b.RecordReceive(b.Kcp.Receive(buffer), buffer);
                b.Flush();
                b.DeliverTo(a);
                a.Flush();
                a.DeliverTo(b);
                b.Flush();
                b.DeliverTo(a);
                break;
            case "acknodelay":
                a.Kcp.SetNoDelay(1, 10, 2, true);
                b.Kcp.SetNoDelay(1, 10, 2, true);
                a.Kcp.Send(Payload(0, 300));
                a.Kcp.Send(Payload(1, 300));
                a.Flush();
                a.DeliverTo(b, ackNoDelay: true);
                b.DeliverTo(a);
                var wask = new byte[24];
                new byte[] { 0x44, 0x33, 0x22, 0x11, 83, 0, 32, 0 }.CopyTo(wask, 0);
                Assert.Equal(KcpInputResult.Ok, b.Kcp.Input(wask, Clock));
                b.Flush();
                b.DeliverTo(a);
                b.Drain();
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(scenario));
        }

        return log;
    }
}

using System.Buffers.Binary;
using KcpKestrel.Core.Arq;

namespace KcpKestrel.Core.Tests.Arq;

/// <summary>
/// With a <see cref="KcpControlBlock.Clock"/>, each segment a flush sends is stamped (and its resend deadline
/// counted) from the time it goes out, as kcp-go does; without one, from the flush's time.
/// </summary>
public sealed class KcpFlushClockTests
{
    private const int Segments = 20;

    [Fact]
    public void Flush_WithAClock_StampsEachSegmentWithTheTimeItLeaves()
    {
        var time = 1000u;
        var stamps = FlushedStamps(() => ++time);

        Assert.Equal(Segments, stamps.Count);
        for (var i = 0; i < stamps.Count; i++)
        {
            // The clock moves one ms per read, and is read once per segment sent.
            Assert.Equal(1001u + (uint)i, stamps[i]);
        }
    }

    [Fact]
    public void Flush_WithoutAClock_StampsEverySegmentWithTheFlushTime()
    {
        var stamps = FlushedStamps(clock: null);

        Assert.Equal(Segments, stamps.Count);
        Assert.All(stamps, ts => Assert.Equal(1000u, ts));
    }

    [Fact]
    public void Flush_WithAClock_ResendDeadlinesCountFromTheTimeEachSegmentLeft()
    {
        // The last segment left 20 ms after the flush began: at flush time + rto it is not due yet.
        var time = 1000u;
        var step = 1u;
        var output = new CapturingOutput();
        var kcp = Block(output, () => time += step);
        kcp.Send(new byte[Segments * kcp.Mss]);
        kcp.FlushAt(1000);
        output.Take();
        var rto = (int)kcp.Statistics.Rto;

        // The clock stands still from here: only the deadlines set by the first flush decide.
        step = 0;
        time = (uint)(1000 + rto + 1);
        kcp.FlushAt(time);
        var resent = Stamps(output.Take()).Count;

        // Segment i left at 1001 + i and is due at 1001 + i + rto: at 1001 + rto only the first is due.
        Assert.Equal(1, resent);
    }

    private static List<uint> FlushedStamps(Func<uint>? clock)
    {
        var output = new CapturingOutput();
        var kcp = Block(output, clock);
        kcp.Send(new byte[Segments * kcp.Mss]);
        kcp.FlushAt(1000);
        return Stamps(output.Take());
    }

    private static KcpControlBlock Block(CapturingOutput output, Func<uint>? clock)
    {
        var kcp = new KcpControlBlock(1, output) { Clock = clock };
        kcp.SetNoDelay(1, 10, 2, true);
        kcp.SetWindowSize(128, 128);
        return kcp;
    }

    // The ts of every PUSH segment in the datagrams, in the order sent.
    private static List<uint> Stamps(List<byte[]> datagrams)
    {
        var stamps = new List<uint>();
        foreach (var datagram in datagrams)
        {
            for (var offset = 0; offset + 24 <= datagram.Length;)
            {
                var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(datagram.AsSpan(offset + 20));
                if (datagram[offset + 4] == 81)
                {
                    stamps.Add(BinaryPrimitives.ReadUInt32LittleEndian(datagram.AsSpan(offset + 8)));
                }

                offset += 24 + length;
            }
        }

        return stamps;
    }
}

using System.Buffers;
using CsCheck;
using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Transport.UserTcp.Tests.Connection;

/// <summary>CsCheck properties: any seeded impairment delivers byte-exact; reassembly and the SACK scoreboard agree with a model.</summary>
public class PropertyTests
{
    [Fact]
    public void AnyImpairedLinkDeliversByteExactBothWays()
    {
        Gen.Int.Select(Gen.Double[0, 0.15], Gen.Double[0, 0.1], Gen.Double[0, 0.1], Gen.Int[1, 300_000], Gen.Bool)
            .Sample((seed, loss, duplicate, reorder, size, sack) =>
            {
                var options = new TcpConnectionOptions { Sack = sack, ReceiveBufferSize = 64 * 1024, SendBufferSize = 64 * 1024 };
                var pair = new ConnectionPair(seed, options, options);
                pair.Connect();
                pair.Link.Impair(loss, duplicate, reorder, delayMs: 1 + (seed & 7));
                Assert.True(pair.Transfer(pair.Client, pair.Server, size, seed));
                Assert.True(pair.Transfer(pair.Server, pair.Client, size / 3 + 1, seed + 1));
            },
            iter: 25,
            threads: 1);
    }

    [Fact]
    public void ReassemblyOfAnyArrivalOrderYieldsTheStream()
    {
        Gen.Int[1, 20_000].Select(Gen.Int[1, 3000], Gen.Int)
            .Sample((length, segment, seed) =>
            {
                const int capacity = 32 * 1024;
                var data = new byte[length];
                new Random(seed).NextBytes(data);
                var pieces = new List<(int Start, int Length)>();
                for (var at = 0; at < length; at += segment)
                {
                    pieces.Add((at, Math.Min(segment, length - at)));
                }

                // Shuffle, and duplicate some.
                var random = new Random(seed ^ 0x5bd1);
                pieces.AddRange(pieces.Where(_ => random.Next(5) == 0).ToList());
                var order = pieces.OrderBy(_ => random.Next()).ToList();

                var buffer = default(ReceiveBuffer);
                const uint isn = 0xFFFF_F000; // wraps
                var rcvNxt = isn;
                foreach (var (start, count) in order)
                {
                    var seq = isn + (uint)start;
                    var slice = data.AsSpan(start, count);
                    if (Sequence.Lt(seq, rcvNxt))
                    {
                        var skip = (int)(rcvNxt - seq);
                        if (skip >= count)
                        {
                            continue;
                        }

                        slice = slice[skip..];
                        seq = rcvNxt;
                    }

                    var advanced = buffer.Write(rcvNxt, seq, slice, capacity, ArrayPool<byte>.Shared);
                    Assert.True(advanced >= 0 || pieces.Count > ReceiveBuffer.MaxRanges);
                    if (advanced > 0)
                    {
                        rcvNxt += (uint)advanced;
                    }
                }

                // With at most MaxRanges holes some segments may be refused; a sender would resend them.
                foreach (var (start, count) in pieces.OrderBy(p => p.Start))
                {
                    var seq = isn + (uint)start;
                    if (Sequence.Ge(seq, rcvNxt))
                    {
                        rcvNxt += (uint)buffer.Write(rcvNxt, seq, data.AsSpan(start, count), capacity, ArrayPool<byte>.Shared);
                    }
                    else if (Sequence.Lt(rcvNxt, seq + (uint)count))
                    {
                        var skip = (int)(rcvNxt - seq);
                        rcvNxt += (uint)buffer.Write(rcvNxt, rcvNxt, data.AsSpan(start + skip, count - skip), capacity, ArrayPool<byte>.Shared);
                    }
                }

                Assert.Equal(isn + (uint)length, rcvNxt);
                var output = new byte[length];
                Assert.Equal(length, buffer.Read(output, capacity, ArrayPool<byte>.Shared));
                Assert.True(output.AsSpan().SequenceEqual(data));
                Assert.False(buffer.HasBuffer);
            },
            iter: 300);
    }

    [Fact]
    public void ScoreboardHolesAreExactlyTheUnsackedBytes()
    {
        Gen.Int[0, 100].Array[0, 12].Select(Gen.Int[1, 20].Array[12])
            .Sample((starts, lengths) =>
            {
                const uint una = 0xFFFF_FF00; // wraps
                const uint max = una + 200;
                var sacked = new bool[200];
                var scoreboard = default(SackScoreboard);
                for (var i = 0; i < starts.Length; i++)
                {
                    var options = default(TcpOptions);
                    var start = 1 + starts[i];
                    var end = Math.Min(start + lengths[i], 200);
                    options.SackCount = 1;
                    options.Sack[0] = new SackBlock(una + (uint)start, una + (uint)end);
                    scoreboard.Add(options, una, max);
                    for (var b = start; b < end; b++)
                    {
                        sacked[b] = true;
                    }
                }

                var expectedSacked = sacked.Count(s => s);
                Assert.Equal(expectedSacked, scoreboard.SackedBytes);
                if (expectedSacked == 0)
                {
                    Assert.True(scoreboard.IsEmpty);
                    return;
                }

                var highest = Array.LastIndexOf(sacked, true) + 1;
                Assert.Equal(una + (uint)highest, scoreboard.HighestSacked);
                var holes = 0;
                var from = una;
                while (scoreboard.NextHole(from, out var hs, out var he))
                {
                    for (var b = hs; b != he; b++)
                    {
                        Assert.False(sacked[(int)(b - una)]);
                    }

                    holes += (int)(he - hs);
                    from = he;
                }

                Assert.Equal(highest - expectedSacked, holes);
                Assert.Equal(holes, scoreboard.HoleBytesBelow(una, una + (uint)highest));
            },
            iter: 500);
    }
}

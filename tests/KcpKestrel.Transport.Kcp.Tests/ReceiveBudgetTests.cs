using System.IO.Pipelines;
using System.Security.Cryptography;
using KcpKestrel.Core.Arq;
using KcpKestrel.Transport.Kcp.Diagnostics;
using KcpKestrel.Transport.Kcp.Sessions;
using KcpKestrel.Transport.Kcp.Tests.InMemory;
using Xunit.Abstractions;

namespace KcpKestrel.Transport.Kcp.Tests;

/// <summary>A session's and a listener's receive budgets, in memory on a manual clock.</summary>
public sealed class ReceiveBudgetTests(ITestOutputHelper output)
{
    private const uint Conv = 7;
    private const int Payload = 1376;

    [Fact]
    public void PushOverTheSessionBudget_IsNotAcked_ThenArrivesOnceTheAppReads()
    {
        const long Budget = 1024 * 1024;
        var pair = new SessionPair(o => o.SessionReceiveBudget = Budget);
        var server = pair.Server.Session;
        var data = RandomNumberGenerator.GetBytes(1500 * Payload);
        const uint Segments = 1500;

        // A peer that ignores our window sends everything at once, and the app does not read.
        for (var sn = 0u; sn < Segments; sn++)
        {
            SendPush(pair, sn, data);
            if (sn % 16 == 15)
            {
                pair.Advance(1);
            }
        }

        pair.Advance(5);
        Assert.True(pair.Loop.Counters.DroppedSessionBudget > 0, "nothing was refused");
        Assert.InRange(server.ReceiveHeld, 0, Budget);
        var acked = AckedBy(pair);
        Assert.True(acked.Count < (int)Segments, "every segment was acknowledged although the budget is smaller than the data");

        // The app reads; the peer resends what was never acknowledged, until everything was.
        var input = pair.Server.Connection.Transport.Input;
        var received = new MemoryStream();
        for (var round = 0; round < 200 && acked.Count < (int)Segments; round++)
        {
            Drain(input, received);
            for (var sn = 0u; sn < Segments; sn++)
            {
                if (!acked.Contains(sn))
                {
                    SendPush(pair, sn, data);
                }
            }

            pair.Advance(5);
            acked = AckedBy(pair);
        }

        Drain(input, received);
        pair.Advance(5);
        Drain(input, received);
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(received.ToArray()));
    }

    [Fact]
    public void PeerKeepingToTheWindow_AppNotReading_NeverHitsTheDefaultBudget()
    {
        var pair = new SessionPair(o => { o.DataShards = 10; o.ParityShards = 3; o.Crypt = "aes"; o.Key = "k"; }, seed: 9);
        Assert.Equal(6L * 1024 * 1024, pair.Options.SessionReceiveBudget);
        pair.Link.Loss = 0.02;
        const int Bytes = 4 * 1024 * 1024;
        const int Chunk = 512 * 1024;
        var writer = pair.Client.Connection.Transport.Output;
        var written = 0;
        var flush = new ValueTask<FlushResult>(default(FlushResult));
        void WriteMore()
        {
            if (written < Bytes && flush.IsCompleted)
            {
                var chunk = new byte[Chunk];
                for (var i = 0; i < Chunk; i++)
                {
                    chunk[i] = (byte)(written + i);
                }

                written += Chunk;
                flush = writer.WriteAsync(chunk);
            }
        }

        // Twenty seconds with an app that does not read: rcv_queue, the pipe and FEC fill as far as the window lets them.
        long peak = 0;
        for (var ms = 0; ms < 20_000; ms++)
        {
            WriteMore();
            pair.Advance(1);
            peak = Math.Max(peak, pair.Server.Session.ReceiveHeld);
        }

        var input = pair.Server.Connection.Transport.Input;
        var received = new MemoryStream();
        pair.AdvanceUntil(
            () =>
            {
                WriteMore();
                peak = Math.Max(peak, pair.Server.Session.ReceiveHeld);
                Drain(input, received);
                return received.Length >= Bytes;
            },
            120_000,
            "the transfer");

        output.WriteLine($"peak held by a window-keeping session whose app did not read: {peak:N0} bytes of {pair.Options.SessionReceiveBudget:N0}");
        Assert.Equal(0, pair.Loop.Counters.DroppedSessionBudget);
        Assert.InRange(peak, 1, pair.Options.SessionReceiveBudget);
        var bytes = received.ToArray();
        for (var i = 0; i < Bytes; i++)
        {
            Assert.Equal((byte)i, bytes[i]);
        }
    }

    [Fact]
    public void ListenerBudgetSpent_ClosesTheLargestHolderFirst()
    {
        const long K = 1024;
        var loop = new ManualLoop(0);
        var listener = new ListenerReceiveMemory(1024 * K);
        var share = listener.CreateLoopShare(loop);
        var reclaimed = new List<string>();
        var sessions = new Dictionary<string, SessionReceiveMemory>();
        using var kcp = new KcpControlBlock(Conv, new NoOutput());
        using var input = new KcpDatagramInput(new KcpOptions { DataShards = 0, ParityShards = 0 }, loop, null);
        foreach (var (name, bytes) in new[] { ("a", 200 * K), ("b", 500 * K), ("c", 300 * K) })
        {
            // A session ends when reclaimed, which closes its memory.
            var memory = new SessionReceiveMemory(1024 * K, share, loop.Counters, () =>
            {
                reclaimed.Add(name);
                sessions[name].Close(kcp, input);
            });
            Assert.True(memory.TryHold((int)bytes));
            sessions[name] = memory;
        }

        // 1,000 KiB held of 1,024: the next 100 KiB does not fit, and is refused before anything closes.
        var d = new SessionReceiveMemory(1024 * K, share, loop.Counters, () => reclaimed.Add("d"));
        Assert.False(d.TryHold((int)(100 * K)));
        Assert.Equal(1, loop.Counters.DroppedListenerBudget);
        Assert.Empty(reclaimed);

        // At the end of the turn the largest holder goes: enough is free again, so only it.
        loop.RunTurn(1);
        Assert.Equal(["b"], reclaimed);
        Assert.Equal(1, loop.Counters.SessionsClosedForMemory);
        Assert.True(d.TryHold((int)(100 * K)));
        Assert.InRange(listener.Reserved, 0, listener.Budget);
        Assert.Equal(600 * K, listener.Held);
    }

    private static void SendPush(SessionPair pair, uint sn, byte[] data)
    {
        var datagram = new byte[SegmentHeader.Size + Payload];
        new SegmentHeader(Conv, KcpCommand.Push, 0, 1024, pair.Now, sn, 0, Payload).Write(datagram);
        data.AsSpan((int)sn * Payload, Payload).CopyTo(datagram.AsSpan(SegmentHeader.Size));
        pair.Server.Session.OnPacket(datagram, pair.Now, datagram.Length);
    }

    /// <summary>Every sn the server acknowledged, one by one or by una.</summary>
    private static HashSet<uint> AckedBy(SessionPair pair)
    {
        var acked = new HashSet<uint>();
        var una = 0u;
        var cipher = KcpCrypt.Create(pair.Options);
        foreach (var (_, from, sent, _, _) in pair.Link.Sent)
        {
            if (from != pair.Server.Channel || cipher.Open(sent.ToArray(), null, out var offset, out var length) != Core.Crypto.CipherResult.Ok)
            {
                continue;
            }

            var span = sent.AsSpan(offset, length);
            while (SegmentHeader.TryRead(span, out var h))
            {
                if (h.Cmd == KcpCommand.Ack)
                {
                    acked.Add(h.Sn);
                }

                una = Math.Max(una, h.Una);
                span = span[(SegmentHeader.Size + (int)h.Len)..];
            }
        }

        for (var sn = 0u; sn < una; sn++)
        {
            acked.Add(sn);
        }

        return acked;
    }

    private static void Drain(PipeReader input, MemoryStream into)
    {
        while (input.TryRead(out var result))
        {
            foreach (var segment in result.Buffer)
            {
                into.Write(segment.Span);
            }

            input.AdvanceTo(result.Buffer.End);
        }
    }

    private sealed class NoOutput : IKcpOutput
    {
        public void Output(Span<byte> buffer)
        {
        }
    }
}

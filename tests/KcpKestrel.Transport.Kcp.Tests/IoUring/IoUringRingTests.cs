using System.Net;
using System.Net.Sockets;
using KcpKestrel.IoUring;
using KcpKestrel.Native;
using KcpKestrel.Transport.Kcp.Io.Native;
using Xunit.Abstractions;
using static KcpKestrel.Transport.Kcp.Tests.IoUring.IoUringTestSupport;

namespace KcpKestrel.Transport.Kcp.Tests.IoUring;

[Collection(IoUringTestCollection.Name)]
public sealed unsafe class IoUringRingTests(ITestOutputHelper output)
{
    [Fact]
    public void Nop_Submitted_CompletesWithItsUserData()
    {
        if (Unavailable(output))
        {
            return;
        }

        using var ring = IoUringRing.Create(new IoUringRingOptions { Entries = 8 });
        ring.GetSqe()->PrepareNop(42);
        Assert.Equal(1, ring.SubmitAndWait(1, 1000));
        var cqe = Next(ring);
        Assert.Equal(42UL, cqe.UserData);
        Assert.Equal(0, cqe.Res);
        Assert.False(ring.TryReadCqe(out _));
    }

    [Fact]
    public void Create_SingleIssuer_DeferTaskRunTakenOrFallenBack()
    {
        if (Unavailable(output))
        {
            return;
        }

        using var ring = IoUringRing.Create(new IoUringRingOptions());
        output.WriteLine($"setup flags 0x{ring.SetupFlags:x}, features 0x{ring.Features:x}, defer task run {ring.DeferTaskRun}");
        Assert.True((ring.Features & IoUringConstants.FeatSingleMmap) != 0);
    }

    [Fact]
    public void GetSqe_SubmissionQueueFull_SubmitsAndRetries()
    {
        if (Unavailable(output))
        {
            return;
        }

        using var ring = IoUringRing.Create(new IoUringRingOptions { Entries = 4, CompletionEntries = 64 });
        for (var i = 0; i < 4; i++)
        {
            Assert.True(ring.TryGetSqe(out var sqe));
            sqe->PrepareNop((ulong)i);
        }

        Assert.False(ring.TryGetSqe(out _));
        for (var i = 4; i < 20; i++)
        {
            ring.GetSqe()->PrepareNop((ulong)i);
        }

        _ = ring.Submit();
        var seen = new HashSet<ulong>();
        for (var i = 0; i < 20; i++)
        {
            var cqe = Next(ring);
            Assert.True(seen.Add(cqe.UserData));
        }

        Assert.Equal(20, seen.Count);
    }

    [Fact]
    public void TryReadCqe_CompletionQueueOverflowed_NothingLost()
    {
        if (Unavailable(output))
        {
            return;
        }

        using var ring = IoUringRing.Create(new IoUringRingOptions { Entries = 4, CompletionEntries = 8 });
        const int Total = 40;
        for (var i = 0; i < Total; i++)
        {
            ring.GetSqe()->PrepareNop((ulong)i);
        }

        _ = ring.Submit();
        Assert.True(ring.CqOverflowPending, "40 completions into an 8-entry CQ should have overflowed");
        var seen = new HashSet<ulong>();
        while (seen.Count < Total)
        {
            Assert.True(seen.Add(Next(ring).UserData));
        }

        Assert.Equal(0u, ring.CqOverflowCount);
        Assert.False(ring.CqOverflowPending);
    }

    [Fact]
    public void RecvMsgMultishot_BuffersExhausted_EnobufsThenRearmedDeliversTheRest()
    {
        if (Unavailable(output))
        {
            return;
        }

        var before = OpenDescriptors();
        using (var receiver = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        using (var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        using (var ring = IoUringRing.Create(new IoUringRingOptions { Entries = 8 }))
        using (var buffers = ProvidedBufferRing.Register(ring, 1, 2, 512))
        {
            receiver.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            for (var i = 0; i < 5; i++)
            {
                sender.SendTo(new byte[] { (byte)i, 1, 2, 3 }, receiver.LocalEndPoint!);
            }

            var hdr = new MsgHdr { NameLength = 128 };
            var fd = (int)receiver.Handle;
            ring.GetSqe()->PrepareRecvMsgMultishot(fd, &hdr, buffers.GroupId, 7);
            var received = new List<byte>();
            var enobufs = 0;
            var arms = 1;
            while (received.Count < 5)
            {
                var cqe = Next(ring);
                if (cqe.Res == -IoUringConstants.ENOBUFS)
                {
                    // Out of buffers ends the multishot (no F_MORE): hand them back and arm again.
                    Assert.False(cqe.HasMore);
                    enobufs++;
                    ring.GetSqe()->PrepareRecvMsgMultishot(fd, &hdr, buffers.GroupId, 7);
                    arms++;
                    continue;
                }

                Assert.True(cqe.Res > 0, $"res {cqe.Res}");
                Assert.True(cqe.HasBuffer);
                buffers.OnTaken();
                var header = (IoUringRecvMsgOut*)buffers.Address(cqe.BufferId);
                Assert.Equal(4u, header->PayloadLength);
                Assert.Equal(16u, header->NameLength);
                received.Add(*((byte*)header + sizeof(IoUringRecvMsgOut) + 128));
                buffers.Recycle(cqe.BufferId);

                if (!cqe.HasMore)
                {
                    ring.GetSqe()->PrepareRecvMsgMultishot(fd, &hdr, buffers.GroupId, 7);
                    arms++;
                }
            }

            // Five datagrams were waiting for two buffers when the request was armed: it ran dry.
            output.WriteLine($"ENOBUFS completions {enobufs}, arms {arms}");
            Assert.True(enobufs >= 1);
            Assert.Equal([0, 1, 2, 3, 4], received);
            Assert.Equal(buffers.Count, buffers.InKernel);
        }

        Assert.Equal(before, OpenDescriptors());
    }

    [Fact]
    public void Dispose_OperationsInFlight_CancelledAndNothingLeaks()
    {
        if (Unavailable(output))
        {
            return;
        }

        var before = OpenDescriptors();
        using (var receiver = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            receiver.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            var fd = (int)receiver.Handle;
            var hdr = new MsgHdr { NameLength = 128 };
            using var ring = IoUringRing.Create(new IoUringRingOptions { Entries = 8 });
            using var buffers = ProvidedBufferRing.Register(ring, 3, 4, 256);
            ring.GetSqe()->PrepareRecvMsgMultishot(fd, &hdr, buffers.GroupId, 1);
            ring.GetSqe()->PrepareRecvMsgMultishot(fd, &hdr, buffers.GroupId, 2);
            _ = ring.Submit();

            // One cancel by user data, then every request on the socket.
            ring.GetSqe()->PrepareCancel(1, 0, 100);
            Assert.True(ring.SubmitAndWait(1, 1000) >= 0);
            var results = new Dictionary<ulong, int>();
            results.Add(Next(ring).UserData, 0);
            results.Add(Next(ring).UserData, 0);
            ring.GetSqe()->PrepareCancelFd(fd, 101);
            _ = ring.Submit();
            results.Add(Next(ring).UserData, 0);
            results.Add(Next(ring).UserData, 0);
            Assert.Equal([1UL, 2UL, 100UL, 101UL], results.Keys.Order());
            Assert.Equal(buffers.Count, buffers.InKernel);

            // And one left armed when the ring goes: closing the ring cancels it.
            ring.GetSqe()->PrepareRecvMsgMultishot(fd, &hdr, buffers.GroupId, 3);
            _ = ring.Submit();
        }

        Assert.Equal(before, OpenDescriptors());
    }
}

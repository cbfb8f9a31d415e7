using System.Net.Sockets;
using KcpKestrel.IoUring;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Transport.Tcp.IoUring;

/// <summary>
/// The receive half of a connection, run on its worker: a multishot RECV into the worker's provided
/// buffers, each completion copied into the input pipe and flushed; while the app is behind (a flush over
/// the pause threshold) the receive is cancelled, so the socket's window closes and flow control reaches
/// the peer, and armed again once the flush completes.
/// </summary>
internal static unsafe class IoUringTcpInput
{
    internal static void Arm(IoUringRing ring, IoUringTcpConnection c)
    {
        ring.GetSqe()->PrepareRecvMultishot(c.Fd, IoUringTcpWorker.BufferGroup, IoUringTcpWorker.Tag(IoUringTcpWorker.KindRecv, c.Slot));
        c.RecvArmed = true;
    }

    /// <summary>One RECV completion; true when it was the kernel running out of provided buffers (ENOBUFS).</summary>
    internal static bool OnRecv(IoUringRing ring, ProvidedBufferRing buffers, IoUringTcpConnection c, in IoUringCqe cqe)
    {
        var res = cqe.Res;
        if (cqe.HasBuffer)
        {
            buffers.OnTaken();
            if (res > 0 && !c.InputDone)
            {
                CopyIn(c, buffers.Buffer(cqe.BufferId, res));
            }

            buffers.Recycle(cqe.BufferId);
        }

        if (!cqe.HasMore)
        {
            c.RecvArmed = false;
        }

        if (res > 0)
        {
            if (!c.InputDone)
            {
                Flush(ring, c);
            }
        }
        else if (res == 0)
        {
            // FIN, or the shutdown an abort made.
            c.CompleteInput(c.AbortReason);
        }
        else if (res != -IoUringConstants.ENOBUFS && res != -IoUringConstants.ECANCELED)
        {
            c.CompleteInput(c.AbortReason ?? (res == -IoUringTcpNative.ECONNRESET
                ? new ConnectionResetException("The peer reset the connection.", new SocketException((int)SocketError.ConnectionReset))
                : new ConnectionAbortedException($"Receive failed: errno {-res}.")));
        }

        // ENOBUFS (every buffer was in use) ended the multishot receive too: the data waits in the socket.
        if (!c.RecvArmed && !c.InputDone && !c.FlushPending)
        {
            Arm(ring, c);
        }

        return res == -IoUringConstants.ENOBUFS;
    }

    /// <summary>A paused flush completed (the app read enough): take its result, flush what came meanwhile, receive again.</summary>
    internal static void OnFlushed(IoUringRing ring, IoUringTcpConnection c)
    {
        if (!c.FlushPending)
        {
            return;
        }

        c.FlushPending = false;
        if (c.InputDone)
        {
            return;
        }

        // The stored flush has completed: its continuation is what posted this.
#pragma warning disable CA2012
        _ = c.PendingFlush.GetAwaiter().GetResult();
#pragma warning restore CA2012
        c.PendingFlush = default;
        if (c.Unflushed)
        {
            c.Unflushed = false;
            Flush(ring, c);
        }

        if (!c.FlushPending && !c.RecvArmed)
        {
            Arm(ring, c);
        }
    }

    private static void CopyIn(IoUringTcpConnection c, ReadOnlySpan<byte> source)
    {
        var writer = c.InputWriter;
        while (!source.IsEmpty)
        {
            var target = writer.GetSpan();
            var n = Math.Min(target.Length, source.Length);
            source[..n].CopyTo(target);
            writer.Advance(n);
            source = source[n..];
        }
    }

    // The pending flush is kept and its result taken once its continuation has posted back (CA2012 cannot see that).
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA2012", Justification = "Consumed once, after completion.")]
    private static void Flush(IoUringRing ring, IoUringTcpConnection c)
    {
        if (c.FlushPending)
        {
            c.Unflushed = true;
            return;
        }

        var flush = c.InputWriter.FlushAsync();
        if (flush.IsCompleted)
        {
            // A completed result means the app stopped reading: what comes next is read and dropped.
            _ = flush.GetAwaiter().GetResult();
            return;
        }

        // Over the pause threshold: stop receiving until the app has read enough (flow control reaches the peer).
        c.PendingFlush = flush;
        c.FlushPending = true;
        flush.GetAwaiter().UnsafeOnCompleted(c.OnFlushed);
        if (c.RecvArmed)
        {
            IoUringTcpWorker.Cancel(ring, IoUringTcpWorker.KindRecv, c.Slot);
        }
    }
}

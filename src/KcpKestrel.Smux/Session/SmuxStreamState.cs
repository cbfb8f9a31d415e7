namespace KcpKestrel.Smux.Session;

/// <summary>The protocol state of one stream, owned by <see cref="SmuxSessionCore"/>.</summary>
internal sealed class SmuxStreamState(uint id)
{
    public uint Id { get; } = id;

    /// <summary>Received bytes not yet consumed by the application.</summary>
    public int Buffered { get; set; }

    /// <summary>v2: bytes consumed so far (wraps, as smux's numRead).</summary>
    public uint NumRead { get; set; }

    /// <summary>v2: bytes consumed since the last UPD (smux's incr).</summary>
    public uint Increment { get; set; }

    /// <summary>v2: bytes sent so far (wraps, as smux's numWritten).</summary>
    public uint NumWritten { get; set; }

    /// <summary>v2: what the peer last said it consumed.</summary>
    public uint PeerConsumed { get; set; }

    /// <summary>v2: the peer's last advertised window; smux starts from a guess of 256 KiB.</summary>
    public uint PeerWindow { get; set; } = SmuxSessionCore.InitialPeerWindow;

    /// <summary>Opened by the peer and waiting in the accept backlog.</summary>
    public bool PendingAccept { get; set; }

    public bool LocalFinSent { get; set; }

    public bool RemoteFinReceived { get; set; }

    /// <summary>The application stopped reading; later data is dropped (and reported consumed so the peer never stalls).</summary>
    public bool InputClosed { get; set; }

    /// <summary>Both directions are done: the stream can leave the table.</summary>
    public bool IsFinished => LocalFinSent && (RemoteFinReceived || InputClosed);
}

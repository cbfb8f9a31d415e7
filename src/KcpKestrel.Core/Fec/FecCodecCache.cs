namespace KcpKestrel.Core.Fec;

/// <summary>
/// The Reed-Solomon codecs of many FEC decoders, one per (data, parity) shape, and the budget their decode
/// matrix caches share. An I/O loop keeps one for all its sessions: a codec and its cache then cost once per
/// shape per loop, not once per session, and no peer can make a loop hold more than
/// <see cref="DecodeCacheBudgetBytes"/> of cached inverse matrices or more than <see cref="MaxShapes"/>
/// shapes that peers asked for (auto-tuned to) beyond the one the endpoint is configured with.
/// </summary>
/// <remarks>Not thread-safe: codecs keep scratch state, so a cache belongs to one loop (or one decoder).</remarks>
internal sealed class FecCodecCache
{
    /// <summary>Shapes kept at most; codecs no decoder uses are dropped first.</summary>
    public const int MaxShapes = 16;

    /// <summary>Decode-matrix bytes a cache of its own holds at most (a decoder given no shared cache).</summary>
    public const long DefaultDecodeCacheBudgetBytes = 8 << 20;

    private readonly Dictionary<int, Entry> _codecs = [];

    public FecCodecCache(long decodeCacheBudgetBytes = DefaultDecodeCacheBudgetBytes, GfKernel? kernel = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(decodeCacheBudgetBytes);
        DecodeCacheBudgetBytes = decodeCacheBudgetBytes;
        Kernel = kernel ?? GaloisKernels.Best;
    }

    public GfKernel Kernel { get; }

    /// <summary>Bytes of decode matrices all codecs of this cache may hold together.</summary>
    public long DecodeCacheBudgetBytes { get; }

    /// <summary>Bytes of decode matrices held now.</summary>
    public long DecodeCacheBytes { get; private set; }

    /// <summary>Shapes with a codec now.</summary>
    public int Shapes => _codecs.Count;

    /// <summary>The codec for (<paramref name="dataShards"/>, <paramref name="parityShards"/>), shared; give it back with <see cref="Release"/>.</summary>
    /// <param name="dataShards">Data shards per group.</param>
    /// <param name="parityShards">Parity shards per group.</param>
    /// <param name="codec">The codec, or null when refused.</param>
    /// <param name="required">
    /// A shape the endpoint was configured with: always granted. A shape a peer asked for is refused when
    /// <see cref="MaxShapes"/> are in use.
    /// </param>
    public bool TryAcquire(int dataShards, int parityShards, out ReedSolomon? codec, bool required = false)
    {
        var key = (dataShards << 16) | parityShards;
        if (!_codecs.TryGetValue(key, out var entry))
        {
            if (_codecs.Count >= MaxShapes && !DropUnused() && !required)
            {
                codec = null;
                return false;
            }

            entry = new Entry(new ReedSolomon(dataShards, parityShards, Kernel) { DecodeCacheOwner = this });
            _codecs.Add(key, entry);
        }

        entry.Users++;
        codec = entry.Codec;
        return true;
    }

    /// <summary>A decoder no longer uses <paramref name="codec"/>.</summary>
    public void Release(ReedSolomon codec)
    {
        if (_codecs.TryGetValue((codec.DataShards << 16) | codec.ParityShards, out var entry) && ReferenceEquals(entry.Codec, codec))
        {
            entry.Users--;
        }
    }

    /// <summary>Charges a decode matrix of <paramref name="bytes"/> to the shared budget; when it is spent, every cache is emptied first.</summary>
    internal bool TryChargeDecodeMatrix(int bytes)
    {
        if (DecodeCacheBytes + bytes > DecodeCacheBudgetBytes)
        {
            foreach (var entry in _codecs.Values)
            {
                entry.Codec.ClearDecodeCache();
            }

            if (DecodeCacheBytes + bytes > DecodeCacheBudgetBytes)
            {
                return false;
            }
        }

        DecodeCacheBytes += bytes;
        return true;
    }

    internal void RefundDecodeMatrices(long bytes) => DecodeCacheBytes -= bytes;

    private bool DropUnused()
    {
        var dropped = false;
        foreach (var (key, entry) in _codecs)
        {
            if (entry.Users <= 0)
            {
                entry.Codec.ClearDecodeCache();
                _codecs.Remove(key);
                dropped = true;
            }
        }

        return dropped;
    }

    private sealed class Entry(ReedSolomon codec)
    {
        public ReedSolomon Codec { get; } = codec;

        public int Users { get; set; }
    }
}
